import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  discordContractViolations,
  type FakeDiscord,
  startFakeDiscord,
} from '../fakes/discord/index.js';
import { type Concord, startConcord } from '../support/concord-harness.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';

// The whole of Concord against the fake Discord only: the incident lifecycle with slash commands.

let discord: FakeDiscord;
let concord: Concord;
let anna: { id: string };
let bob: { id: string };
let eve: { id: string };

beforeEach(async () => {
  discord = await startFakeDiscord();
  concord = await startConcord({
    ...discord.concordEnv(),
  });
  anna = discord.addMember('anna-deu');
  bob = discord.addMember('bob-acme');
  eve = discord.addMember('eve-acme');
  const deu = await makeOrganisation(concord.db, { code: 'DEU', kind: 'delegation' });
  const acme = await makeOrganisation(concord.db, { code: 'ACME' });
  await makePerson(concord.db, {
    handle: 'anna',
    name: 'Anna Weber',
    orgId: deu.id,
    role: 'delegate',
    discord: anna.id,
  });
  const liaison = await makePerson(concord.db, {
    handle: 'bob',
    name: 'Bob Stone',
    orgId: acme.id,
    role: 'liaison',
    discord: bob.id,
  });
  await makePerson(concord.db, {
    handle: 'eve',
    name: 'Eve Lind',
    orgId: acme.id,
    role: 'liaison',
    discord: eve.id,
  });
  await makeContact(concord.db, { orgId: acme.id, personId: liaison.id });
});

afterEach(async () => {
  await concord.close();
  await discord.close();
  expect(discordContractViolations(discord.calls)).toEqual([]);
});

const text = (value: unknown) => JSON.stringify(value);
const messagesIn = (channelId: string) =>
  [...discord.state.messages.values()].filter((m) => m.channel_id === channelId);
const sees = (channel: { permission_overwrites: { id: string; allow: string }[] }, user: string) =>
  (BigInt(channel.permission_overwrites.find((o) => o.id === user)?.allow ?? 0) & 1024n) === 1024n;

async function run(
  user: string,
  channel: string,
  subcommand: string,
  options: Record<string, string>,
) {
  const ack = await discord.sendCommand({ name: 'incident', subcommand, options, user, channel });
  expect(ack.timedOut).toBe(false);
  expect(ack.firstCallbackMs).toBeLessThan(3000);
  const interaction = discord.interactions.all.get(ack.interactionId);
  await vi.waitFor(() => expect(interaction?.originalEdits ?? 0).toBeGreaterThan(0), {
    timeout: 10_000,
  });
  return text(interaction?.original);
}

describe('an incident on Discord', () => {
  it('opens, updates, changes lead and status, invites, closes and reports, each on the timeline', async () => {
    const general = discord.channel('general');
    const opened = await run(anna.id, general.id, 'open', {
      title: 'Wiper on the grid',
      severity: 'critical',
      orgs: 'ACME',
    });
    const channel = [...discord.state.channels.values()].find(
      (c) => c.name === 'inc-2026-1-wiper-on-the-grid',
    );
    if (!channel) throw new Error('no incident channel');
    expect(opened).toContain(`https://discord.com/channels/${discord.guildId}/${channel.id}`);
    expect(sees(channel, anna.id) && sees(channel, bob.id)).toBe(true);
    expect(sees(channel, eve.id)).toBe(false);
    const [card] = messagesIn(channel.id);
    expect(discord.state.pins.get(channel.id)).toEqual([card?.id]);

    await run(anna.id, channel.id, 'update', { text: 'Substations on manual' });
    expect(text(messagesIn(channel.id).at(-1))).toContain('Substations on manual');
    expect(text(discord.state.messages.get(card?.id as string))).toContain('Substations on manual');
    await run(anna.id, channel.id, 'lead', { user: bob.id });
    await run(bob.id, channel.id, 'status', { status: 'stable' });
    await run(bob.id, channel.id, 'invite', { user: eve.id });
    expect(sees(channel, eve.id)).toBe(true);
    const refused = await run(eve.id, general.id, 'update', { text: 'from the wrong channel' });
    expect(refused).toContain("run this in an incident's channel");

    await run(bob.id, channel.id, 'close', { summary: 'Grid restored' });
    await vi.waitFor(() => expect(channel.topic ?? '').toMatch(/Archived/));
    const report = await run(anna.id, general.id, 'report', { ref: 'INC-2026-1' });
    for (const line of [
      'update: Substations on manual',
      'lead: Bob Stone (@bob)',
      'status: active → stable',
      'invite: Eve Lind',
      'closed: Grid restored',
    ]) {
      expect(report).toContain(line);
    }
    const list = await run(anna.id, general.id, 'list', { status: 'closed' });
    expect(list).toContain('INC-2026-1 · closed · critical');
  });
});
