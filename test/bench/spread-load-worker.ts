import { parentPort, workerData } from 'node:worker_threads';
import { buildRequest, deliver } from '../fakes/slack/signing.js';

/**
 * The scale benchmark's load generator, in a thread of its own like the ack benchmark's
 * (`load-worker.ts`), standing for Slack behind a load balancer: request i goes to
 * `urls[i % urls.length]`, open loop, whatever the answers. It reports each request's outcome by
 * index, so the bench can tell which acknowledged commands came to nothing.
 */
export interface SpreadLoadJob {
  /** The instances' `/slack/events`, taken in turn. */
  urls: string[];
  secret: string;
  bodies: string[];
  rate: number;
}

export interface SpreadLoadResult {
  /** By index: ms to a 200 within Slack's 3 s, or null when the user would have seen an error. */
  ackMs: (number | null)[];
  /** When each request was sent (epoch ms), by index. */
  sentAt: number[];
}

const job = workerData as SpreadLoadJob;
const ackMs: (number | null)[] = job.bodies.map(() => null);
const sentAt: number[] = [];
const pending: Promise<void>[] = [];
const begin = performance.now();
for (const [i, body] of job.bodies.entries()) {
  const wait = begin + (i * 1000) / job.rate - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  sentAt[i] = Date.now();
  const url = job.urls[i % job.urls.length] as string;
  const request = buildRequest(url, job.secret, body, 'application/x-www-form-urlencoded');
  pending.push(
    deliver(request).then(
      (r) => {
        if (r.status === 200 && !r.timedOut) ackMs[i] = r.ackMs;
      },
      () => {},
    ),
  );
}
await Promise.all(pending);
parentPort?.postMessage({ ackMs, sentAt } satisfies SpreadLoadResult);
