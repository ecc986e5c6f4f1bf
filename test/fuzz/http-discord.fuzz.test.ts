import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDiscord, FakeInteraction } from '../fakes/discord/index.js';
import { checkBatch, describeRequest, SignaturePairs, sendChecked } from './support/checks.js';
import {
  type DiscordWorld,
  discordCase,
  expectedStatuses,
  type Keys,
  toRequest,
} from './support/discord-requests.js';
import {
  elapsed,
  FUZZ_RUNS,
  fuzzInBatches,
  startClock,
  Tally,
  watchProcess,
} from './support/fuzz.js';
import { HttpClient, type RawRequest, type RawResponse } from './support/http.js';
import { type Snapshot, WriteWatch } from './support/snapshot.js';
import { type Stack, startStack } from './support/stack.js';
import { MEMBER_HANDLE, seedWorld } from './support/world.js';

// POST /discord/interactions fuzzed through the whole stack as it runs in production: the front
// door relays the request to the endpoint on the main thread, which checks the Ed25519
// signature, acknowledges, and hands commands and buttons to the core, on a real database and
// Redis. Forged, stale, tampered, replayed and unsigned requests must get 401; signed ones 200
// (or 400 for what Discord would never send); bodies over 1 MiB 413; nothing may be written; the
// process and its front door must stay up. See discord-requests.ts for who says what.

const BATCH = 100;

/** The application's signing key (its public half configured in Concord) and a stranger's. */
function makeKeys(): Keys & { publicHex: string } {
  const application = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const publicHex = application.publicKey
    .export({ type: 'spki', format: 'der' })
    .subarray(12)
    .toString('hex');
  return { application: application.privateKey, stranger: stranger.privateKey, publicHex };
}

/**
 * The fake Discord learns of each signed interaction as Discord would have sent it, so that the
 * adapter's follow-ups (editing the deferred reply) reach a known interaction, as in production.
 */
function announce(fake: FakeDiscord, body: Uint8Array): (status: number, answer: string) => void {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return () => {};
  }
  const p = payload as { id?: unknown; token?: unknown; type?: unknown } | null;
  if (!p || typeof p.id !== 'string' || typeof p.token !== 'string') return () => {};
  if (p.type !== 2 && p.type !== 3) return () => {};
  const interaction: FakeInteraction = fake.interactions.register(
    payload as Record<string, unknown>,
    'http',
  );
  let answered = () => {};
  if (!interaction.ack)
    interaction.httpAnswered = new Promise<void>((resolve) => {
      answered = resolve;
    });
  return (status, answer) => {
    let parsed: unknown = answer;
    try {
      parsed = JSON.parse(answer);
    } catch {
      // Not JSON: the fake reads only JSON answers.
    }
    fake.interactions.answeredOverHttp(interaction, status, parsed);
    answered();
  };
}

describe('POST /discord/interactions under fuzz', () => {
  let stack: Stack;
  let watch: WriteWatch;
  let client: HttpClient;
  let world: DiscordWorld;
  const keys = makeKeys();
  const guard = watchProcess();

  beforeAll(async () => {
    stack = await startStack({ discord: { publicKey: keys.publicHex } });
    const fake = stack.discord?.fake;
    if (!fake) throw new Error('no fake Discord');
    const ids: Record<string, string> = {};
    for (const handle of [MEMBER_HANDLE, 'jonas', 'ann', 'otto'])
      ids[handle] = fake.addMember(handle).id;
    const seeded = await seedWorld(stack.core, stack.storage.db, { discord: ids });
    world = {
      ...seeded,
      mentions: Object.values(ids).map((id) => `<@${id}>`),
      applicationId: fake.applicationId,
      guildId: fake.guildId,
      memberId: ids[MEMBER_HANDLE] as string,
      pressers: seeded.answerers.map(({ handle, routingId }) => ({
        userId: ids[handle] as string,
        routingId,
      })),
      channels: [fake.channel('general').id],
      outsiders: [fake.user('alice').id, fake.user('bob').id],
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
    const fake = stack.discord?.fake;
    if (!fake) throw new Error('no fake Discord');
    let seq = 0;
    const fill = (body: string) => body.replaceAll('FZSEQFZ', () => String(++seq));
    const statuses = new Tally();
    const labels = new Tally();
    const logged = new Tally();
    let baseline: Snapshot | undefined;
    let lastValid: RawRequest | undefined;
    const signatures = new SignaturePairs();
    const started = startClock();
    const { cases } = await fuzzInBatches('discord', discordCase(world), BATCH, async (batch) => {
      const before = baseline ?? (await watch.snapshot());
      baseline = undefined;
      // A replay repeats a valid request of an earlier batch, which the endpoint has seen.
      const earlier = lastValid;
      const prepared = batch.map((c) => {
        const replay = c.auth.kind === 'replay' ? earlier : undefined;
        const request = toRequest(c, keys, fill, earlier);
        if (c.auth.kind === 'valid' && c.hugeBytes === undefined) lastValid = request;
        return { c, request, replay };
      });
      const sent = await Promise.all(
        prepared.map(async ({ c, request, replay }) => {
          const signed = expectedStatuses(c, replay !== undefined).includes(200);
          const done = signed && request.body ? announce(fake, request.body) : () => {};
          const response: RawResponse = await sendChecked(stack, client, request);
          done(response.status, response.body);
          return { c, request, replay, response };
        }),
      );
      await stack.settle();
      const after = await watch.snapshot();
      baseline = after;
      // As the endpoint keys them: it reads the signature in lower case.
      const pairOf = (r: RawRequest) =>
        `${r.headers['x-signature-timestamp']}:${r.headers['x-signature-ed25519']?.toLowerCase()}`;
      const mayBeReplay = signatures.record(sent.map(({ request }) => pairOf(request)));
      for (const { c, request, replay, response } of sent) {
        statuses.add(String(response.status));
        labels.add(c.label.split(':')[0] ?? c.label);
        const expected = expectedStatuses(c, replay !== undefined);
        if (mayBeReplay(pairOf(request)) && expected.includes(200)) expected.push(401);
        if (!expected.includes(response.status)) {
          throw new Error(
            `expected ${expected.join(' or ')}, got ${response.status} (${response.body.slice(0, 200)}) for ${c.label} auth=${c.auth.kind}\n${describeRequest(request)}`,
          );
        }
      }
      await checkBatch({
        stack,
        client,
        processCheck: guard.check,
        watch,
        onLogged: (errors) => {
          for (const e of errors) logged.add(String(e.msg));
        },
        before,
        after,
        sent,
      });
    });
    const final = await watch.snapshot();
    console.log(
      `[fuzz] discord: ${cases} requests in ${elapsed(started)}; statuses ${statuses}; kinds ${labels}; inbound keys recorded ${final.inboundKeys}; errors logged ${logged}`,
    );
    expect(cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
  }, 600_000);
});
