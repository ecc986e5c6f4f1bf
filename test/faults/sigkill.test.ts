import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesIn } from '../fakes/discord/index.js';
import type { InteractionResult } from '../fakes/slack/index.js';
import type { Inbox } from '../support/early-warning-world.js';
import { type Expectation, reportFault, settle, tally } from './support/ledger.js';
import { until } from './support/ports.js';
import {
  alertEveryDelegation,
  scheduleCommand,
  sessionExpectations,
  sessionTitle,
  token,
} from './support/workloads.js';
import { FaultWorld } from './support/world.js';

// Concord killed with SIGKILL (no handler runs, nothing is flushed) and started again: in the
// middle of a burst of commands, in the middle of opening an incident, and in the middle of an
// early warning's fan-out. Whatever a command committed happens exactly once; what it did not
// commit does not happen at all.

const PER_PLATFORM = 20;
const SESSIONS = 5;

let world: FaultWorld | undefined;
beforeAll(async () => {
  world = await FaultWorld.start({ perPlatform: PER_PLATFORM, forumChannels: SESSIONS });
  // Incident-response contacts for the first two delegations: one on Slack, one on Discord.
  await world.sql`
    insert into contacts (org_id, capability, person_id, rank)
    select o.id, 'incident-response', c.person_id, 0
    from contacts c join organisations o on o.id = c.org_id
    where c.capability = 'early-warning' and o.code in ('D0001', 'D0002')`;
});
afterAll(async () => {
  await world?.close();
});

const w = () => world as FaultWorld;

describe('Concord killed with SIGKILL', () => {
  it('mid-command: a burst of commands, killed after the first answer', async ({ task }) => {
    const tag = token('kc');
    const remind = [5];
    interface Command {
      kind: 'alert' | 'session';
      needle: string;
      sent?: InteractionResult;
      expectations: Expectation[];
    }
    const commands: Command[] = [];
    const alerts = w().inboxes.slice(0, 12);
    for (const [i, inbox] of alerts.entries()) {
      const needle = `${tag}a${i}x`;
      commands.push({
        kind: 'alert',
        needle,
        expectations: [
          { label: `card ${needle} in ${inbox.org}`, copies: () => w().inboxCopies(inbox, needle) },
        ],
      });
    }
    for (const [i, forum] of w().forums.entries()) {
      const title = sessionTitle(tag, i);
      commands.push({
        kind: 'session',
        needle: title,
        expectations: sessionExpectations(w(), title, forum, remind),
      });
    }
    // All at once, as fast as Slack hands them over, killed once a quarter have been answered:
    // the kill finds some done and answered, some committed and not yet answered (their effects
    // must still happen, once), some not yet committed (nothing of them may happen).
    await Promise.all(
      commands.map(async (c, i) => {
        if (c.kind === 'alert') {
          const inbox = alerts[i] as Inbox;
          c.sent = await w().command(
            `/alert Drill ${c.needle} at the border to:${inbox.org} severity:low`,
          );
        } else {
          const forum = w().forums[i - alerts.length];
          if (!forum) throw new Error('no forum channel');
          c.sent = await w().command(scheduleCommand(w(), c.needle, 15, remind), forum);
        }
      }),
    );
    const answered = () => commands.filter((c) => c.sent && w().answersTo(c.sent.triggerId).length);
    expect(await until(() => answered().length >= commands.length / 4, 30_000, 5)).toBe(true);
    await w().concord.kill();
    const killedAt = Date.now();
    const answeredAtKill = answered().length;
    const restartMs = await w().concord.start();

    // What each command committed, as the database has it now.
    const committedAlerts = new Set(
      (
        await w().sql<{ text: string }[]>`select text from alerts where text like ${`%${tag}a%`}`
      ).map((r) => r.text),
    );
    const committedSessions = new Set(
      (
        await w().sql<
          { title: string }[]
        >`select title from forum_sessions where title like ${`${tag}-s%`}`
      ).map((r) => r.title),
    );
    const committed = (c: Command) =>
      c.kind === 'alert'
        ? [...committedAlerts].some((t) => t.includes(c.needle))
        : committedSessions.has(c.needle);
    const done = commands.filter(committed);
    const notRun = commands.filter((c) => !committed(c));
    const unansweredDone = done.filter(
      (c) => c.sent && w().answersTo(c.sent.triggerId).length === 0,
    );
    const expectations = done.flatMap((c) => c.expectations);
    const settled = await settle(w(), expectations, { since: killedAt, timeoutMs: 120_000 });
    const t = tally(expectations);
    // A command that did not commit must leave nothing behind, and must not have said it did.
    const phantoms = notRun.flatMap((c) => c.expectations).filter((e) => e.copies() > 0);
    const falselyAnswered = notRun.filter(
      (c) => c.sent && w().answersTo(c.sent.triggerId).length > 0,
    );
    const items = await w().itemStates('forum.%');
    reportFault(
      task,
      {
        fault: 'sigkill mid-command',
        expected: t.expected,
        lost: t.lost + falselyAnswered.length,
        doubled: t.doubled + phantoms.length,
        settledMs: settled.settledMs,
        notes: `${commands.length} commands: ${answeredAtKill} answered at the kill, ${done.length} committed (${unansweredDone.length} of them unanswered), ${notRun.length} killed before committing (the user saw no answer; Slack does not retry slash commands); restarted in ${restartMs} ms`,
      },
      t,
    );

    expect(answeredAtKill).toBeLessThan(commands.length);
    expect(done.length).toBeGreaterThan(0);
    expect({ lost: t.lost, doubled: t.doubled }).toEqual({ lost: 0, doubled: 0 });
    expect(phantoms.map((e) => e.label)).toEqual([]);
    expect(falselyAnswered.map((c) => c.needle)).toEqual([]);
    expect(Object.keys(settled.deliveries)).toEqual(['sent']);
    expect(items.pending ?? 0).toBe(0);
  });

  it('mid-incident-open: killed after Slack made the channel, before Concord heard back', async ({
    task,
  }) => {
    const s = w().slack;
    const d = w().discord;
    const tag = token('ki');
    const title = `Wiper ${tag} at the port`;
    const slackChannels = () =>
      [...s.state.channels.values()].filter(
        (c) => c.name.startsWith('inc-') && c.name.includes(tag),
      );
    const discordChannels = () =>
      [...d.state.channels.values()].filter(
        (c) => c.name?.startsWith('inc-') && c.name.includes(tag),
      );
    const cardsIn = (platform: 'slack' | 'discord') =>
      platform === 'slack'
        ? slackChannels().reduce((n, c) => n + w().slackCopies(c.id, `· ${title}`), 0)
        : discordChannels().reduce((n, c) => n + w().discordCopies(c.id, `· ${title}`), 0);
    const creates = () =>
      s.callsTo('conversations.create').filter((c) => String(c.params.name).includes(tag)).length;

    s.holdAfter.set('conversations.create', 20_000);
    const sent = await w().command(`/incident open ${title} orgs:D0001,D0002`);
    expect(sent.status).toBe(200);
    expect(await until(() => creates() === 1, 20_000, 20)).toBe(true);
    await w().concord.kill();
    const killedAt = Date.now();
    s.holdAfter.clear();
    expect(slackChannels()).toHaveLength(1);
    expect(
      s.callsTo('pins.add').filter((c) => c.params.channel === slackChannels()[0]?.id),
    ).toEqual([]);
    const restartMs = await w().concord.start();

    const [incident] = await w().sql<{ id: number; ref: string }[]>`
      select id, ref from incidents where title = ${title}`;
    expect(incident).toBeDefined();
    const expectations: Expectation[] = [
      { label: 'the Slack channel', copies: () => slackChannels().length },
      { label: 'the Discord twin channel', copies: () => discordChannels().length },
      { label: 'the card in the Slack channel', copies: () => cardsIn('slack') },
      { label: 'the card in the Discord channel', copies: () => cardsIn('discord') },
      {
        label: 'the card pinned in Slack',
        copies: () =>
          slackChannels().reduce((n, c) => n + (s.state.pins.get(c.id)?.length ?? 0), 0),
      },
      {
        label: 'the card pinned in Discord',
        copies: () =>
          discordChannels().reduce(
            (n, c) => n + messagesIn(d.state, c.id).filter((m) => m.pinned).length,
            0,
          ),
      },
    ];
    // The dead process's lease (30 s from the open) runs out; the next resume pass (10 s) takes it.
    const settled = await settle(w(), expectations, { since: killedAt, timeoutMs: 90_000 });
    const t = tally(expectations);
    const [row] = await w().sql<{ provision: string }[]>`
      select provision from incidents where id = ${incident?.id ?? 0}`;
    const members = [...(slackChannels()[0]?.members ?? [])].sort();
    reportFault(
      task,
      {
        fault: 'sigkill mid-incident-open',
        expected: t.expected,
        lost: t.lost,
        doubled: t.doubled,
        settledMs: settled.settledMs,
        notes: `${incident?.ref}: restarted in ${restartMs} ms; provision ${row?.provision}; conversations.create called ${creates()} time(s)`,
      },
      t,
    );
    expect({ lost: t.lost, doubled: t.doubled }).toEqual({ lost: 0, doubled: 0 });
    expect(row?.provision).toBe('ready');
    expect(creates()).toBe(1);
    const contact = w().inboxes.find((b) => b.org === 'D0001')?.user ?? '';
    expect(members).toEqual([s.botUserId, w().sender.id, contact].sort());
  });

  it('mid-fan-out: killed with the Slack cards posted but unanswered, Discord posts in flight', async ({
    task,
  }) => {
    const s = w().slack;
    const d = w().discord;
    const tag = token('kf');
    s.holdAfter.set('chat.postMessage', 4_000);
    d.latencyMs = 1_500;
    const fan = await alertEveryDelegation(w(), tag);
    const slackCards = () =>
      w().inboxes.filter((b) => b.platform === 'slack' && w().inboxCopies(b, tag) > 0).length;
    expect(await until(() => slackCards() === PER_PLATFORM, 30_000, 20)).toBe(true);
    await w().concord.kill();
    const killedAt = Date.now();
    const atKill = fan.reached();
    s.holdAfter.clear();
    d.latencyMs = 0;
    const rowsAtKill = await w().deliveryStates();
    const restartMs = await w().concord.start();

    const settled = await settle(w(), fan.expectations, { since: killedAt, timeoutMs: 90_000 });
    const t = tally(fan.expectations);
    reportFault(
      task,
      {
        fault: 'sigkill mid-fan-out',
        expected: t.expected,
        lost: t.lost,
        doubled: t.doubled,
        settledMs: settled.settledMs,
        notes: `${atKill}/${t.expected} cards in at the kill; rows then ${JSON.stringify(rowsAtKill)}; restarted in ${restartMs} ms`,
      },
      t,
    );
    // The kill left posts made but not marked sent: the restart must find them, not repeat them.
    expect(rowsAtKill.sending ?? 0).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(t.expected);
    expect({ lost: t.lost, doubled: t.doubled }).toEqual({ lost: 0, doubled: 0 });
    expect(Object.keys(settled.deliveries)).toEqual(['sent']);
    // The dead process's liveness key lapses within 15 s, and the pass that notices runs every 5 s.
    expect(settled.settledMs).not.toBeNull();
    expect(settled.settledMs ?? Number.POSITIVE_INFINITY).toBeLessThan(40_000);
  });
});
