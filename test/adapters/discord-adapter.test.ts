import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordChannel, discordMessage, discordUser } from '../../adapters/discord/refs.js';
import { parseCommand } from '../../src/commands/parse.js';
import { concordCommands } from '../../src/commands/registry.js';
import { discordContractViolations } from '../fakes/discord/index.js';
import { type Harness, startHarness } from './discord-harness.js';

// The real discord.js client against the fake Discord, over HTTP and a WebSocket on 127.0.0.1.

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  const violations = discordContractViolations(h.fake.calls);
  await h.close();
  expect(violations).toEqual([]);
});

const registry = concordCommands();

describe('start-up', () => {
  it('registers every command, subcommand and option, required options first', () => {
    const puts = h.fake.calls.filter(
      (c) => c.route === 'PUT /applications/{application_id}/guilds/{guild_id}/commands',
    );
    expect(puts).toHaveLength(1);
    const registered = h.fake.state.commands;
    expect(registered.map((c) => c.name)).toEqual(registry.commands.map((c) => c.name));
    for (const spec of registry.commands) {
      const command = registered.find((c) => c.name === spec.name);
      expect(command?.options.map((o) => [o.type, o.name])).toEqual(
        spec.subcommands.map((s) => [1, s.name]),
      );
      for (const sub of spec.subcommands) {
        const options = command?.options.find((o) => o.name === sub.name)?.options ?? [];
        const specOptions = [...(sub.positional ? [sub.positional] : []), ...sub.options];
        expect(options.map((o) => o.name).sort()).toEqual(specOptions.map((o) => o.name).sort());
        const required = options.map((o) => o.required === true);
        expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a)));
        for (const o of specOptions) {
          const registeredOption = options.find((r) => r.name === o.name);
          const type = o.type === 'user' ? 6 : o.type === 'boolean' ? 5 : 3;
          expect(registeredOption?.type, `${spec.name} ${sub.name} ${o.name}`).toBe(type);
          expect(registeredOption?.required === true).toBe(o.required === true);
          if (o.type === 'enum')
            expect(registeredOption?.choices?.map((c) => c.value)).toEqual(o.choices);
          expect(registeredOption?.description.length).toBeLessThanOrEqual(100);
        }
      }
    }
  });

  it('knows its own user id from READY', () => {
    expect(h.adapter.botUserId).toBe(h.fake.botUserId);
    expect(h.fake.gateway.identifies).toBe(1);
    expect(h.fake.gateway.connections[0]?.get('encoding')).toBe('json');
  });
});

describe('slash commands', () => {
  it('defers within 3 s while the core takes 5 s, then edits the deferred reply', async () => {
    h.inbound.delayMs = 5000;
    h.inbound.commandReply = () => ({
      visibility: 'private',
      message: {
        tlp: 'amber',
        title: 'Added ACME',
        fields: [{ label: 'Kind', value: 'industry' }],
      },
    });
    const bob = h.fake.user('bob');
    const ack = await h.fake.sendCommand({
      name: 'org',
      subcommand: 'member',
      options: { user: bob.id, org: 'ACME', role: 'liaison', name: 'Bob "the \\ builder" Smith' },
    });
    expect(ack.timedOut).toBe(false);
    expect(ack.callbackType).toBe(5);
    expect(ack.callbackData).toEqual({ flags: 64 });
    expect(ack.firstCallbackMs).toBeLessThan(3000);

    await h.fake.waitFor(() => h.inbound.commands.length === 1);
    const command = h.inbound.commands[0];
    expect(command).toMatchObject({
      deliveryKey: `discord:int:${ack.interactionId}`,
      user: discordUser(h.fake.user('alice').id),
      channel: discordChannel(h.fake.channel('general').id),
      userName: 'alice',
    });
    expect(command?.text).toBe(
      `/org member <@${bob.id}> org:ACME role:liaison name:"Bob \\"the \\\\ builder\\" Smith"`,
    );
    // The line reads back through the real parser with every value intact.
    const parsed = parseCommand(command?.text ?? '', registry);
    expect(parsed.input.requireString('name')).toBe('Bob "the \\ builder" Smith');
    expect(parsed.input.requireMention('user')).toMatchObject({ kind: 'discord', id: bob.id });

    const interaction = h.fake.interactions.all.get(ack.interactionId);
    await h.fake.waitFor(() => interaction?.originalEdits, 8000);
    expect(interaction?.original).toMatchObject({
      ephemeral: true,
      content: '**TLP:AMBER**',
      embeds: [{ title: 'Added ACME', fields: [{ name: 'Kind', value: 'industry' }] }],
    });
    expect(interaction?.timedOut).toBe(false);
  }, 15_000);

  it('quotes a free-text positional so the parser reads it whole', async () => {
    const ack = await h.fake.sendCommand({
      name: 'forum',
      subcommand: 'schedule',
      options: { title: 'Annual forum: opening', at: '2027-11-09T10:00', tz: 'Europe/Tallinn' },
    });
    await h.fake.waitFor(() => h.inbound.commands.length === 1);
    const text = h.inbound.commands[0]?.text ?? '';
    expect(text).toBe(
      '/forum schedule "Annual forum: opening" at:2027-11-09T10:00 tz:Europe/Tallinn',
    );
    expect(parseCommand(text, registry).input.requireString('title')).toBe('Annual forum: opening');
    expect(ack.callbackType).toBe(5);
  });

  it('posts a channel reply in the channel as the bot and confirms privately', async () => {
    h.inbound.commandReply = () => ({ visibility: 'channel', message: { title: 'Inbox set' } });
    const general = h.fake.channel('general');
    const ack = await h.fake.sendCommand({
      name: 'org',
      subcommand: 'inbox',
      options: { org: 'ACME' },
    });
    const interaction = h.fake.interactions.all.get(ack.interactionId);
    await h.fake.waitFor(() => interaction?.originalEdits);
    const posted = [...h.fake.state.messages.values()].filter((m) => m.channel_id === general.id);
    expect(posted).toHaveLength(1);
    expect(posted[0]?.author.id).toBe(h.fake.botUserId);
    expect(posted[0]?.embeds).toMatchObject([{ title: 'Inbox set' }]);
    expect(interaction?.original).toMatchObject({
      ephemeral: true,
      content: `Posted in <#${general.id}>.`,
    });
  });

  it('runs an interaction delivered twice once, with one callback', async () => {
    const ack = await h.fake.sendCommand({ name: 'concord', subcommand: 'whoami' });
    await h.fake.redeliver(ack.interactionId);
    await sleep(300);
    const interaction = h.fake.interactions.all.get(ack.interactionId);
    expect(h.inbound.commands).toHaveLength(1);
    expect(interaction?.attempts).toHaveLength(1);
    expect(interaction?.duplicateCallbacks).toBe(0);
  });

  it('removes the deferred reply when the core says it already ran the command', async () => {
    h.inbound.commandReply = () => null;
    const ack = await h.fake.sendCommand({ name: 'concord', subcommand: 'whoami' });
    const interaction = h.fake.interactions.all.get(ack.interactionId);
    await h.fake.waitFor(() => interaction?.originalDeleted);
  });

  it('answers a failure in the core with a one-line apology carrying the interaction id', async () => {
    h.inbound.commandReply = () => {
      throw new Error('database on fire');
    };
    const ack = await h.fake.sendCommand({ name: 'concord', subcommand: 'help' });
    const interaction = h.fake.interactions.all.get(ack.interactionId);
    await h.fake.waitFor(() => interaction?.originalEdits);
    expect(String(interaction?.original?.content)).toMatch(
      new RegExp(`^Sorry.*${ack.interactionId}`),
    );
    expect(String(interaction?.original?.content)).not.toContain('database');
  });
});

describe('buttons', () => {
  it('defers, hands the action to the core and answers the presser ephemerally', async () => {
    h.inbound.actionReply = () => ({
      visibility: 'private',
      message: { title: 'You declined AR-2026-7' },
    });
    const general = discordChannel(h.fake.channel('general').id);
    const card = await h.adapter.chat.post(general, {
      tlp: 'amber',
      title: 'Request AR-2026-7',
      buttons: [
        { action: 'assist.accept', value: 'AR-2026-7', label: 'Accept', style: 'primary' },
        { action: 'assist.decline', value: 'AR-2026-7', label: 'Decline', style: 'danger' },
      ],
    });
    const messageId = card.split('/')[1] ?? '';
    const bob = h.fake.user('bob');
    const ack = await h.fake.sendButton({
      message: messageId,
      customId: 'assist.decline|AR-2026-7',
      user: bob.id,
    });
    expect(ack.callbackType).toBe(6);
    expect(ack.firstCallbackMs).toBeLessThan(3000);
    await h.fake.waitFor(() => h.inbound.actions.length === 1);
    expect(h.inbound.actions[0]).toEqual({
      deliveryKey: `discord:int:${ack.interactionId}`,
      user: discordUser(bob.id),
      channel: general,
      message: card,
      action: 'assist.decline',
      value: 'AR-2026-7',
    });
    const interaction = h.fake.interactions.all.get(ack.interactionId);
    await h.fake.waitFor(() => interaction?.followUps.length);
    expect(interaction?.followUps[0]).toMatchObject({
      ephemeral: true,
      embeds: [{ title: 'You declined AR-2026-7' }],
    });
  });
});

describe('messages', () => {
  it('relays people’s messages, thread replies and edits, and drops bots, webhooks and itself', async () => {
    const general = h.fake.channel('general');
    const alice = h.fake.user('alice');
    await h.adapter.chat.post(discordChannel(general.id), { title: 'from the bot itself' });
    const otherBot = h.fake.addMember('otherbot', { bot: true });
    h.fake.sendMessage({ content: 'from another bot', user: otherBot.id });
    h.fake.sendMessage({ content: 'from a webhook', webhook: true });
    const root = h.fake.sendMessage({ content: 'Status?' });
    const reply = h.fake.sendMessage({
      content: 'Contained.',
      threadOf: root.id,
      user: h.fake.user('bob').id,
    });
    await h.fake.waitFor(() => h.inbound.messages.length === 2);
    h.fake.editMessage({ message: root.id, content: 'Status now?' });
    await h.fake.waitFor(() => h.inbound.messages.length === 3);
    await sleep(100);

    const [first, second, third] = h.inbound.messages;
    expect(h.inbound.messages).toHaveLength(3);
    expect(first).toEqual({
      deliveryKey: `discord:msg:${root.id}`,
      user: discordUser(alice.id),
      channel: discordChannel(general.id),
      message: discordMessage(general.id, root.id),
      text: 'Status?',
      userName: 'alice',
    });
    expect(second).toMatchObject({
      deliveryKey: `discord:msg:${reply.id}`,
      channel: discordChannel(general.id),
      thread: discordMessage(general.id, root.id),
      message: discordMessage(root.id, reply.id),
      text: 'Contained.',
    });
    const edited = h.fake.state.messages.get(root.id);
    expect(third).toMatchObject({
      deliveryKey: `discord:edit:${root.id}:${edited?.edited_timestamp}`,
      edited: true,
      text: 'Status now?',
      message: discordMessage(general.id, root.id),
    });
  });
});

describe('gateway faults', () => {
  it('resumes after a dropped connection and gets what it missed', async () => {
    h.fake.gateway.disconnect(4000);
    const missed = h.fake.sendMessage({ content: 'said while the bot was away' });
    await h.fake.waitFor(() => h.fake.gateway.resumes === 1, 10_000);
    await h.fake.waitFor(() => h.inbound.messages.length === 1);
    expect(h.inbound.messages[0]?.deliveryKey).toBe(`discord:msg:${missed.id}`);
    expect(h.fake.gateway.identifies).toBe(1);
    const ack = await h.fake.sendCommand({ name: 'concord', subcommand: 'whoami' });
    expect(ack.callbackType).toBe(5);
  }, 15_000);
});
