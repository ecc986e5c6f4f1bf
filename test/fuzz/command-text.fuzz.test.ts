import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandReply } from '../../src/chat/port.js';
import { type ChannelRef, channelRef, type UserRef, userRef } from '../../src/chat/refs.js';
import { type Core, createCore } from '../../src/core.js';
import type { Storage } from '../../src/db/client.js';
import { itemHandlers } from '../../src/domain/item-handlers.js';
import { Jobs } from '../../src/jobs/jobs.js';
import { createMetrics } from '../../src/metrics.js';
import { testPrefix, testRedis } from '../support/jobs.js';
import { internalFailures } from './support/checks.js';
import type { TextWorld } from './support/command-text.js';
import { CountingChat } from './support/counting-chat.js';
import {
  elapsed,
  FUZZ_RUNS,
  fuzzInBatches,
  startClock,
  Tally,
  watchProcess,
} from './support/fuzz.js';
import { changes, type Snapshot, WriteWatch } from './support/snapshot.js';
import { memberLine, openToAnyone, outsiderLine } from './support/speakers.js';
import { capturingLogger, type LoggedError } from './support/stack.js';
import { openFuzzStorage } from './support/storage.js';
import { MEMBER_HANDLE, seedWorld, WORLD_ADMIN } from './support/world.js';

// Command text, through the core's own entrance (`core.inbound.command`: delivery claim, parser,
// speaker, permission, handler) on a real Postgres and Redis, for every command and subcommand
// in the registry. One property of FUZZ_RUNS lines, each spoken by one of two speakers (about
// half each), because "nothing is written" only means something when the command would be
// refused:
//
// (a) someone outside the directory (on the shell, Slack or Discord) says anything at all:
//     valid commands, mutated ones, random text, lines naming things that do not exist. Every
//     answer is a one-line refusal, except `/concord help` and `/concord whoami`, which anyone
//     may run and which only read.
// (b) a directory member (kadri, a delegate of EST, party to the seeded incident) says what
//     must not change anything: lines mutated from valid commands that the parser refuses,
//     commands their role forbids, reads, and valid commands naming an incident, request,
//     action, person or organisation that does not exist, which the handler must refuse. A
//     mutated line that would be a valid command the member may run is left out (it could
//     rightly write); whether a line is one is judged by the parser and the specs' permissions
//     before it runs (`memberKind` in support/speakers.ts).
//
// For both: no answer is an internal error (the apology with a correlation id), every line is
// answered, no table changes (inbound_deliveries aside: the core records every command's
// delivery key before it runs it, refused or not; see support/snapshot.ts), no Redis key of the
// stack's queues changes, and the chat platform is not called at all. Lines go to the core in
// batches of BATCH at once, as the adapters would hand them over; the checks are per batch.

const BATCH = 100;
const INTERNAL = "Sorry, that went wrong on Concord's side";

describe('command text under fuzz, through the core', () => {
  let storage: Storage & { url?: string };
  let core: Core;
  let jobs: Jobs;
  let watch: WriteWatch;
  let world: TextWorld;
  const chat = new CountingChat();
  const { logger, errors } = capturingLogger();
  const guard = watchProcess();
  const MEMBER_SLACK = 'UKADRI0001';
  const MEMBER_DISCORD = '100000000000000042';

  beforeAll(async () => {
    storage = await openFuzzStorage();
    const prefix = testPrefix();
    let queues: Jobs | undefined;
    core = createCore({
      db: storage.db,
      logger,
      metrics: createMetrics(),
      admins: [WORLD_ADMIN],
      enqueue: async (items) => queues?.scheduler.enqueue(items),
      dispatch: async (ids) => queues?.deliveries.enqueue(ids),
    });
    core.chat.register(chat);
    // Queues only: no worker or reconciler runs, so whatever a command enqueued stays visible.
    queues = new Jobs({
      db: storage.db,
      connection: testRedis(),
      prefix,
      logger,
      chat: core.chat,
      handlers: itemHandlers(),
    });
    jobs = queues;
    const seeded = await seedWorld(core, storage.db, {
      slack: { [MEMBER_HANDLE]: MEMBER_SLACK },
      discord: { [MEMBER_HANDLE]: MEMBER_DISCORD },
    });
    world = { ...seeded, mentions: [`<@${MEMBER_SLACK}>`, `<@${MEMBER_DISCORD}>`] };
    watch = await WriteWatch.open(storage, prefix);
    chat.calls.length = 0;
  }, 120_000);

  afterAll(async () => {
    await watch?.close();
    await jobs?.scheduler.queue.obliterate({ force: true }).catch(() => {});
    await jobs?.deliveries.obliterate().catch(() => {});
    await jobs?.close();
    await storage?.close();
    guard.stop();
  });

  let seq = 0;
  // The snapshot after a batch is the one before the next (a failing batch leaves it unset).
  let baseline: Snapshot | undefined;
  /** Runs a batch of lines at once, as the adapters would hand them over. */
  async function runBatch(
    lines: readonly { line: string; user: UserRef; channel: ChannelRef }[],
  ): Promise<{ replies: (CommandReply | null)[]; before: Snapshot; after: Snapshot }> {
    const before = baseline ?? (await watch.snapshot());
    baseline = undefined;
    const replies = await Promise.all(
      lines.map(({ line, user, channel }) =>
        core.inbound.command({ deliveryKey: `fuzz:${++seq}`, user, channel, text: line }),
      ),
    );
    const after = await watch.snapshot();
    return { replies, before, after };
  }

  /** What must hold after every batch, whoever spoke. */
  async function checkQuiet(before: Snapshot, after: Snapshot, context: () => string) {
    guard.check();
    const logged: LoggedError[] = errors.splice(0);
    const failures = internalFailures(logged);
    if (failures.length > 0)
      throw new Error(`internal failures: ${JSON.stringify(failures.slice(0, 2))}\n${context()}`);
    if (changes(before, after).length > 0)
      throw new Error(`the batch wrote:\n${await watch.describe(before, after)}\n${context()}`);
    if (chat.calls.length > 0)
      throw new Error(
        `the batch called the chat platform: ${chat.calls.splice(0).join('; ')}\n${context()}`,
      );
    baseline = after;
  }

  const title = (reply: CommandReply | null) => reply?.message.title ?? '';

  it(`refuses ${FUZZ_RUNS} lines from an outsider and a member, and writes nothing`, async () => {
    // (a) An outsider, on each platform, in a channel that is no incident's.
    const outsider = fc.tuple(
      outsiderLine(world),
      fc.constantFrom(
        userRef('shell', 'stranger'),
        userRef('slack', 'UFZSTRANGER'),
        userRef('discord', '100000000000000999'),
      ),
    );
    // (b) The member, as themself on each platform, likewise.
    const member = fc.tuple(
      memberLine(world),
      fc.constantFrom(
        userRef('shell', MEMBER_HANDLE),
        userRef('slack', MEMBER_SLACK),
        userRef('discord', MEMBER_DISCORD),
      ),
    );
    const channels = fc.constantFrom(
      channelRef('shell', '#fuzz'),
      channelRef('slack', 'CFZ0001'),
      channelRef('discord', '100000000000000777'),
    );
    const caseArb = fc
      .tuple(
        fc.oneof(
          outsider.map(([line, user]) => ({
            who: 'outsider' as const,
            line,
            user,
            mustRefuse: !openToAnyone(line),
          })),
          member.map(([{ line, mustRefuse }, user]) => ({
            who: 'member' as const,
            line,
            user,
            mustRefuse,
          })),
        ),
        channels,
      )
      .map(([c, channel]) => ({ ...c, channel }));

    const outcome = new Tally();
    const started = startClock();
    const { cases } = await fuzzInBatches('command text', caseArb, BATCH, async (batch) => {
      const { replies, before, after } = await runBatch(batch);
      const context = () =>
        batch
          .map(
            (c, i) => `${c.who} ${c.user} ${JSON.stringify(c.line)} → ${title(replies[i] ?? null)}`,
          )
          .join('\n');
      batch.forEach(({ who, line, mustRefuse }, i) => {
        const reply = replies[i] ?? null;
        const shown = title(reply);
        if (!reply) throw new Error(`no answer to ${who}'s ${JSON.stringify(line)}`);
        if (shown.startsWith(INTERNAL))
          throw new Error(`internal error for ${who}'s ${JSON.stringify(line)}: ${shown}`);
        const refused = shown.startsWith('⚠');
        outcome.add(`${who}:${refused ? 'refused' : 'answered'}`);
        if (mustRefuse && !refused)
          throw new Error(`${who}'s ${JSON.stringify(line)} was not refused: ${shown}`);
      });
      await checkQuiet(before, after, context);
    });
    const { inboundKeys } = await watch.snapshot();
    console.log(
      `[fuzz] command text: ${cases} lines in ${elapsed(started)}; ${outcome}; inbound keys recorded ${inboundKeys}`,
    );
    expect(cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
  }, 600_000);
});
