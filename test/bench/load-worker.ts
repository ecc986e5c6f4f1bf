import { parentPort, workerData } from 'node:worker_threads';
import { buildRequest, deliver } from '../fakes/slack/signing.js';

/**
 * The ack benchmark's load generator, in a thread of its own: the fake Slack answering the bot's
 * Web API calls runs on the main thread, and its work must not delay this clock. Signs each
 * prepared command body as Slack does and sends it in its slot, open loop, whatever the answers.
 */
export interface LoadJob {
  url: string;
  secret: string;
  bodies: string[];
  rate: number;
}

export interface LoadResult {
  /** Ack times (ms) of the requests answered 200 within 3 s, in no particular order. */
  acks: number[];
  /** Requests not answered 200 within Slack's 3 s. */
  failures: number;
  /** When each request was sent (epoch ms), by index. */
  sentAt: number[];
}

const job = workerData as LoadJob;
const acks: number[] = [];
const sentAt: number[] = [];
let failures = 0;
const pending: Promise<void>[] = [];
const begin = performance.now();
for (const [i, body] of job.bodies.entries()) {
  const wait = begin + (i * 1000) / job.rate - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  sentAt[i] = Date.now();
  const request = buildRequest(job.url, job.secret, body, 'application/x-www-form-urlencoded');
  pending.push(
    deliver(request).then(
      (r) => {
        if (r.status === 200 && !r.timedOut) acks.push(r.ackMs);
        else failures++;
      },
      () => {
        failures++;
      },
    ),
  );
}
await Promise.all(pending);
parentPort?.postMessage({ acks, failures, sentAt } satisfies LoadResult);
