import { generateKeyPairSync } from 'node:crypto';
import { METHODS as KNOWN_METHODS } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/http/screen.js';
import { checkBatch, describeRequest, sendChecked } from './support/checks.js';
import {
  elapsed,
  FUZZ_RUNS,
  fuzzInBatches,
  startClock,
  Tally,
  watchProcess,
} from './support/fuzz.js';
import { hostilePiece, hostileToken } from './support/hostile.js';
import { HttpClient, headerValue, type RawRequest } from './support/http.js';
import { rarely } from './support/mutate.js';
import { type Snapshot, WriteWatch } from './support/snapshot.js';
import { type Stack, startStack } from './support/stack.js';
import { seedWorld } from './support/world.js';

// Everything else the front door takes: /healthz, /metrics, and requests for paths and methods
// it does not serve, with odd headers, query strings and bodies (some past 1 MiB), over
// kept-alive connections to the whole stack with both platforms on. Each gets what the route
// table says (200, 404, 405 with Allow, 413; the platform endpoints their own 4xx), never a 5xx;
// nothing is written; the process and its front door stay up.

const BATCH = 100;

/** The routes the stack serves, as `METHOD path`. */
const ROUTES = new Set([
  'GET /healthz',
  'GET /metrics',
  'POST /slack/events',
  'POST /discord/interactions',
]);
const PATHS = [...new Set([...ROUTES].map((r) => r.split(' ')[1] as string))];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'];

const pathArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATHS) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PATHS),
        fc.constantFrom(
          '/',
          '//',
          '/.',
          '/..',
          '%00',
          '%2e%2e',
          ';x',
          '#x',
          '.json',
          '?',
          '?x=1',
          '?a=%zz&b',
          '?'.padEnd(2000, 'q'),
        ),
      )
      .map(([path, suffix]) => path + suffix),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/',
      '*',
      '/HEALTHZ',
      '/Healthz',
      '//healthz',
      '/./healthz',
      '/slack/../healthz',
      '/%68ealthz',
      '/slack/events/../../metrics',
      '/discord',
      '/slack',
      '/favicon.ico',
      '/.env',
      '/admin',
      'http://127.0.0.1/healthz',
      `/${'a'.repeat(8000)}`,
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,12}$/), {
        minLength: 1,
        maxLength: 5,
      })
      .map((parts) => `/${parts.join('/')}`),
  },
);

interface RouteCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  chunked: boolean;
}

const routeCase: fc.Arbitrary<RouteCase> = fc
  .record({
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...METHODS) },
      fc.stringMatching(/^[A-Z]{1,12}$/).filter((m) => m !== 'CONNECT'),
    ),
    path: pathArb,
    headers: fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'content-type',
          'accept',
          'x-forwarded-for',
          'cookie',
          'x-slack-signature',
          'x-signature-ed25519',
          'expect-ct',
          'range',
        ),
        fc.stringMatching(/^x-[a-z0-9-]{1,16}$/),
      ),
      fc.oneof(hostileToken, hostilePiece, fc.string({ maxLength: 40 })).map(headerValue),
      { maxKeys: 4 },
    ),
    body: fc.oneof(
      { weight: 5, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      {
        weight: 1,
        arbitrary: rarely(20, fc.integer({ min: 1, max: 64 * 1024 })).map((extra) =>
          extra === undefined
            ? new Uint8Array([0x7b, 0x7d])
            : new Uint8Array(MAX_BODY_BYTES + extra),
        ),
      },
    ),
    chunked: fc.boolean(),
  })
  .map(({ method, path, headers, body, chunked }) => ({
    method,
    path,
    headers,
    ...(body ? { body } : {}),
    chunked,
  }));

/** What the route table says a request must get. */
function expected(c: RouteCase): number[] {
  // A method Node's HTTP parser does not know never reaches Concord: Node answers 400.
  if (!KNOWN_METHODS.includes(c.method)) return [400];
  const path = c.path.split('?')[0] ?? '/';
  const huge = (c.body?.length ?? 0) > MAX_BODY_BYTES;
  const route = `${c.method} ${path}`;
  if (ROUTES.has(route)) {
    if (huge) return [413];
    if (route === 'GET /healthz' || route === 'GET /metrics') return [200];
    // The platform endpoints: a request that is not from the platform is refused; an empty
    // form that is Slack's certificate check is answered.
    return [200, 400, 401];
  }
  return PATHS.includes(path) ? [405] : [404];
}

describe('/healthz, /metrics and every other path and method under fuzz', () => {
  let stack: Stack;
  let watch: WriteWatch;
  let client: HttpClient;
  const guard = watchProcess();

  beforeAll(async () => {
    const key = generateKeyPairSync('ed25519').publicKey;
    const publicKey = key.export({ type: 'spki', format: 'der' }).subarray(12).toString('hex');
    stack = await startStack({ slack: true, discord: { publicKey } });
    await seedWorld(stack.core, stack.storage.db);
    watch = await WriteWatch.open(stack.storage, stack.prefix);
    client = new HttpClient(stack.base);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await watch?.close();
    await stack?.close();
    guard.stop();
  });

  it(`answers ${FUZZ_RUNS} requests as the route table says, writes nothing, stays up`, async () => {
    const statuses = new Tally();
    let baseline: Snapshot | undefined;
    const started = startClock();
    const { cases } = await fuzzInBatches('routes', routeCase, BATCH, async (batch) => {
      const before = baseline ?? (await watch.snapshot());
      baseline = undefined;
      const sent = await Promise.all(
        batch.map(async (c) => {
          const request: RawRequest = { ...c };
          return { c, request, response: await sendChecked(stack, client, request) };
        }),
      );
      await stack.slackBarrier();
      await stack.settle();
      const after = await watch.snapshot();
      baseline = after;
      for (const { c, request, response } of sent) {
        statuses.add(String(response.status));
        const wanted = expected(c);
        if (!wanted.includes(response.status))
          throw new Error(
            `expected ${wanted.join(' or ')}, got ${response.status} (${response.body.slice(0, 200)})\n${describeRequest(request)}`,
          );
        // (An answer to a body sent alone, past the limit, is read without its headers.)
        const small = (request.body?.length ?? 0) <= MAX_BODY_BYTES / 2;
        if (response.status === 405 && small && !response.headers.allow)
          throw new Error(`405 without Allow\n${describeRequest(request)}`);
        if (response.status === 200 && c.path.startsWith('/healthz') && c.method === 'GET') {
          const report = JSON.parse(response.body) as { status?: string };
          if (report.status !== 'ok') throw new Error(`/healthz says ${response.body}`);
        }
      }
      await checkBatch({ stack, client, processCheck: guard.check, watch, before, after, sent });
    });
    console.log(`[fuzz] routes: ${cases} requests in ${elapsed(started)}; statuses ${statuses}`);
    expect(cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
  }, 600_000);
});
