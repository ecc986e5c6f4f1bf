import type { HttpClient, RawRequest, RawResponse } from './http.js';
import { changes, type Snapshot, type WriteWatch } from './snapshot.js';
import type { LoggedError, Stack } from './stack.js';

/**
 * Log lines that mean a request was not answered cleanly: an unexpected exception in the core
 * (answered with an apology and a correlation id), in an adapter's listener, or in an HTTP
 * handler. Hostile input must be refused with a reason, never reach one of these.
 */
const INTERNAL_FAILURES = [
  'command failed',
  'slack interaction failed',
  'slack listener failed',
  'slack message not relayed',
  'discord command failed',
  'discord button failed',
  'discord interaction failed',
  'http handler failed',
  'front door failed',
];

export function internalFailures(errors: readonly LoggedError[]): LoggedError[] {
  return errors.filter((e) => INTERNAL_FAILURES.includes(String(e.msg)) && !boltRefused(e));
}

/**
 * Bolt itself throws on some signed payloads no Slack would send (a string where it looks for
 * an object: `'channel' in item`), before any listener of ours runs; the receiver logs the
 * rejection. That is a refusal, not a failure of Concord's: counted, not failed on.
 */
export function boltRefused(e: LoggedError): boolean {
  if (e.msg !== 'slack listener failed') return false;
  const err = e.err as { stack?: string; original?: { stack?: string } } | undefined;
  const stack = err?.original?.stack ?? err?.stack ?? '';
  const firstFrame = stack.split('\n').find((line) => line.trim().startsWith('at '));
  return firstFrame?.includes('node_modules/@slack/bolt/') ?? false;
}

/** A short, printable account of a request, for failure messages. */
export function describeRequest(request: RawRequest): string {
  const body = Buffer.from(request.body ?? new Uint8Array());
  const shown =
    body.length > 600
      ? `${body.subarray(0, 600).toString('utf8')}… (${body.length} bytes)`
      : body.toString('utf8');
  return `${request.method} ${request.path} ${JSON.stringify(request.headers)}\n  body: ${JSON.stringify(shown)}`;
}

/**
 * After a batch: the process saw no uncaught error, the front-door thread is alive, `/healthz`
 * answers 200, no request ended in an internal failure, and nothing was written. Throws the
 * first thing that is wrong, with what the batch sent.
 */
export async function checkBatch(options: {
  stack: Stack;
  client: HttpClient;
  processCheck: () => void;
  watch: WriteWatch;
  /** Sees every error-level line the batch logged (for the summary). */
  onLogged?: (errors: readonly LoggedError[]) => void;
  before: Snapshot;
  after: Snapshot;
  sent: readonly { request: RawRequest; response: RawResponse }[];
}): Promise<void> {
  const { stack, client, before, after, sent } = options;
  const context = () =>
    sent.map((s) => `${s.response.status} ← ${describeRequest(s.request)}`).join('\n');
  options.processCheck();
  if (stack.frontDoorFailures.length > 0)
    throw new Error(
      `the front-door thread failed: ${stack.frontDoorFailures[0]?.message}\n${context()}`,
    );
  const health = await client.send({ method: 'GET', path: '/healthz', headers: {} });
  if (health.status !== 200)
    throw new Error(`/healthz answered ${health.status}: ${health.body}\n${context()}`);
  const logged = stack.errors.splice(0);
  options.onLogged?.(logged);
  const failures = internalFailures(logged);
  if (failures.length > 0) {
    throw new Error(
      `internal failures: ${JSON.stringify(failures.slice(0, 3), null, 1)}\nthe batch:\n${context()}`,
    );
  }
  if (changes(before, after).length > 0) {
    // Only a request answered 200 can have been handed on: those are the suspects.
    const suspects = sent
      .filter((s) => s.response.status === 200)
      .map((s) => `${s.response.status} ← ${describeRequest(s.request)}`)
      .join('\n');
    throw new Error(
      `the batch wrote:\n${await options.watch.describe(before, after)}\nrequests answered 200:\n${suspects}`,
    );
  }
}

/**
 * Signature pairs (timestamp, signature) sent so far. The same bytes signed in the same second
 * as another request are a replay to the endpoint, whichever of the two it saw first (a batch
 * goes out at once): such a request may be refused with 401 even when its signature is good.
 */
export class SignaturePairs {
  private readonly seen = new Set<string>();

  /** Records a batch's pairs; returns which of them may have been taken for a replay. */
  record(pairs: readonly string[]): (pair: string) => boolean {
    const before = new Set(this.seen);
    const counts = new Map<string, number>();
    for (const pair of pairs) {
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
      this.seen.add(pair);
    }
    return (pair) => before.has(pair) || (counts.get(pair) ?? 0) > 1;
  }
}

/**
 * Sends a request; when it gets no answer at all (the connection refused or reset), the error
 * says why if the front-door thread died, with the request, so that the failure names the input.
 */
export async function sendChecked(
  stack: Stack,
  client: HttpClient,
  request: RawRequest,
): Promise<RawResponse> {
  try {
    return await client.send(request);
  } catch (error) {
    const died = stack.frontDoorFailures[0];
    throw new Error(
      `no answer (${error instanceof Error ? error.message : String(error)})${
        died ? `; the front-door thread died: ${died.stack ?? died.message}` : ''
      }\n${describeRequest(request)}`,
    );
  }
}
