import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  boltRefused,
  checkBatch,
  describeRequest,
  SignaturePairs,
  sendChecked,
} from './support/checks.js';
import {
  elapsed,
  FUZZ_RUNS,
  fuzzInBatches,
  startClock,
  Tally,
  watchProcess,
} from './support/fuzz.js';
import { HttpClient, type RawRequest, type RawResponse } from './support/http.js';
import {
  expectedStatuses,
  type SlackWorld,
  slackCase,
  toRequest,
} from './support/slack-requests.js';
import { type Snapshot, WriteWatch } from './support/snapshot.js';
import { type Stack, startStack } from './support/stack.js';
import { MEMBER_HANDLE, seedWorld } from './support/world.js';

// POST /slack/events fuzzed through the whole stack as it runs in production: the Slack screen
// in the front-door thread, then (for what it accepts) Bolt, the adapter's listeners and the
// core, on a real database and Redis. Forged, stale, tampered and unsigned requests must get
// 401; signed ones 200 (or 400 for a body Slack would never send); bodies over 1 MiB 413;
// nothing may be written; the process and its front door must stay up. See slack-requests.ts
// for who says what (an outsider anything, the directory member nothing that could write).

const BATCH = 100;

describe('POST /slack/events under fuzz', () => {
  let stack: Stack;
  let watch: WriteWatch;
  let client: HttpClient;
  let world: SlackWorld;
  const guard = watchProcess();

  beforeAll(async () => {
    stack = await startStack({ slack: true });
    const fake = stack.slack?.fake;
    if (!fake) throw new Error('no fake Slack');
    const ids: Record<string, string> = {};
    for (const handle of [MEMBER_HANDLE, 'jonas', 'ann', 'otto'])
      ids[handle] = fake.addUser({ name: handle }).id;
    const seeded = await seedWorld(stack.core, stack.storage.db, { slack: ids });
    const member = ids[MEMBER_HANDLE] as string;
    const ops = fake.addChannel({ name: 'fuzz-ops', members: [fake.botUserId, member] });
    world = {
      ...seeded,
      mentions: Object.values(ids).map((id) => `<@${id}>`),
      memberId: member,
      pressers: seeded.answerers.map(({ handle, routingId }) => ({
        userId: ids[handle] as string,
        routingId,
      })),
      channels: [ops.id],
      teamId: fake.state.team.id,
      appId: fake.state.bot.appId,
    };
    watch = await WriteWatch.open(stack.storage, stack.prefix);
    client = new HttpClient(stack.base);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await watch?.close();
    await stack?.close();
    guard.stop();
  });

  it(`answers ${FUZZ_RUNS} requests with 4xx or a clean 200, writes nothing, stays up`, async () => {
    const fake = stack.slack?.fake;
    if (!fake) throw new Error('no fake Slack');
    let seq = 0;
    const fill = (body: string) =>
      body
        .replaceAll('FZSEQFZ', () => String(++seq))
        .replaceAll(
          'FZURLFZ',
          () =>
            fake.prepareCommand({ command: '/fuzz', user_id: 'UFZ', channel_id: 'CFZ' })
              .responseUrl,
        );
    const statuses = new Tally();
    const labels = new Tally();
    const logged = new Tally();
    let baseline: Snapshot | undefined;
    const signatures = new SignaturePairs();
    const started = startClock();
    const { cases } = await fuzzInBatches('slack', slackCase(world), BATCH, async (batch) => {
      const before = baseline ?? (await watch.snapshot());
      baseline = undefined;
      const sent = await Promise.all(
        batch.map(async (c) => {
          const { request, body } = toRequest(c, fake.signingSecret, fill);
          const response: RawResponse = await sendChecked(stack, client, request);
          return { c, body, request, response };
        }),
      );
      // Everything the screen accepted has reached Bolt, and Bolt and the core are done.
      await stack.slackBarrier();
      await stack.settle();
      const after = await watch.snapshot();
      baseline = after;
      // As the screen keys them (header names in any case).
      const pairOf = (r: RawRequest) => {
        const h = Object.fromEntries(
          Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
        );
        return `${h['x-slack-request-timestamp']}:${h['x-slack-signature']}`;
      };
      const mayBeReplay = signatures.record(sent.map(({ request }) => pairOf(request)));
      for (const { c, body, request, response } of sent) {
        statuses.add(String(response.status));
        labels.add(c.label.split(':')[0] ?? c.label);
        const expected = expectedStatuses(c, body);
        if (mayBeReplay(pairOf(request)) && expected.includes(200)) expected.push(401);
        if (!expected.includes(response.status)) {
          throw new Error(
            `expected ${expected.join(' or ')}, got ${response.status} (${response.body.slice(0, 200)}) for ${c.label} auth=${c.auth.kind}\n${describeRequest(request as RawRequest)}`,
          );
        }
      }
      await checkBatch({
        stack,
        client,
        processCheck: guard.check,
        watch,
        onLogged: (errors) => {
          for (const e of errors)
            logged.add(boltRefused(e) ? 'bolt refused a payload' : String(e.msg));
        },
        before,
        after,
        sent,
      });
    });
    const final = await watch.snapshot();
    console.log(
      `[fuzz] slack: ${cases} requests in ${elapsed(started)}; statuses ${statuses}; kinds ${labels}; inbound keys recorded ${final.inboundKeys}; errors logged ${logged}`,
    );
    expect(cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
  }, 600_000);
});
