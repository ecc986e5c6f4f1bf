import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordChannel } from '../../adapters/discord/refs.js';
import { discordContractViolations } from '../fakes/discord/index.js';
import { type Harness, startHarness } from './discord-harness.js';

// The signed HTTP interactions endpoint, POST /discord/interactions, fed by the fake as Discord
// would: Ed25519-signed, timestamped, answered within 3 s.

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ publicKey: true });
});
afterEach(async () => {
  const violations = discordContractViolations(h.fake.calls);
  await h.close();
  expect(violations).toEqual([]);
});

const ping = { id: '1234567890123456789', type: 1, token: 'ping', version: 1 };
const whoami = () => h.fake.commandPayload({ name: 'concord', subcommand: 'whoami' });

describe('signed interactions', () => {
  it('answers a valid PING with PONG', async () => {
    const result = await h.fake.postSignedInteraction(h.interactionsUrl, {
      ...ping,
      application_id: h.fake.applicationId,
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ type: 1 });
  });

  it.each([
    ['forged', { forge: true }],
    ['six minutes old', { skewSeconds: -360 }],
    ['six minutes ahead', { skewSeconds: 360 }],
  ])('refuses a %s request with 401 and runs nothing', async (_label, options) => {
    const result = await h.fake.postSignedInteraction(h.interactionsUrl, whoami(), options);
    expect(result.status).toBe(401);
    await sleep(100);
    expect(h.inbound.commands).toEqual([]);
  });

  it('refuses a replayed request with 401 and runs the command once', async () => {
    const first = await h.fake.postSignedInteraction(h.interactionsUrl, whoami());
    expect(first.status).toBe(200);
    const replayed = await h.fake.postSignedInteraction(h.interactionsUrl, {}, { replay: true });
    expect(replayed.status).toBe(401);
    await h.fake.waitFor(() => h.inbound.commands.length === 1);
    await sleep(100);
    expect(h.inbound.commands).toHaveLength(1);
  });

  it('refuses unsigned requests and bodies over 1 MiB', async () => {
    const unsigned = await fetch(h.interactionsUrl, { method: 'POST', body: JSON.stringify(ping) });
    expect(unsigned.status).toBe(401);
    const huge = await fetch(h.interactionsUrl, {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(huge.status).toBe(413);
  });

  it('defers a command at once, runs it, then edits the deferred reply', async () => {
    h.inbound.delayMs = 500;
    h.inbound.commandReply = () => ({ visibility: 'private', message: { title: 'You are alice' } });
    const payload = whoami();
    const result = await h.fake.postSignedInteraction(h.interactionsUrl, payload);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ type: 5, data: { flags: 64 } });
    expect(result.ms).toBeLessThan(400);
    const interaction = h.fake.interactions.all.get(String(payload.id));
    expect(interaction?.ack?.via).toBe('http');
    await h.fake.waitFor(() => interaction?.originalEdits);
    expect(interaction?.original).toMatchObject({
      ephemeral: true,
      embeds: [{ title: 'You are alice' }],
    });
    expect(h.inbound.commands[0]).toMatchObject({
      deliveryKey: `discord:int:${payload.id}`,
      text: '/concord whoami',
      channel: discordChannel(h.fake.channel('general').id),
    });
  });

  it('defers a button press as an update and hands it to the core', async () => {
    const card = await h.adapter.chat.post(discordChannel(h.fake.channel('general').id), {
      title: 'Warning EW-3',
      buttons: [{ action: 'alert.ack', value: 'EW-3', label: 'Acknowledge' }],
    });
    const payload = h.fake.buttonPayload({ message: card.split('/')[1] ?? '' });
    const result = await h.fake.postSignedInteraction(h.interactionsUrl, payload);
    expect(result.body).toEqual({ type: 6 });
    await h.fake.waitFor(() => h.inbound.actions.length === 1);
    expect(h.inbound.actions[0]).toMatchObject({
      action: 'alert.ack',
      value: 'EW-3',
      message: card,
    });
  });

  it('runs an interaction once when it arrives over the gateway and over HTTP', async () => {
    const ack = await h.fake.sendCommand({ name: 'concord', subcommand: 'whoami' });
    const payload = h.fake.interactions.all.get(ack.interactionId)?.payload ?? {};
    const again = await h.fake.postSignedInteraction(h.interactionsUrl, payload);
    expect(again.status).toBe(200);
    await sleep(200);
    expect(h.inbound.commands).toHaveLength(1);
  });
});
