import type { Logger } from '../log.js';

/** A wait that did not end in time; what it waited for may still finish later, unobserved. */
export class DeadlinePassed extends Error {
  override readonly name = 'DeadlinePassed';
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${ms} ms`);
  }
}

/**
 * `work`, or a `DeadlinePassed` after `ms`. Nothing is cancelled: an ioredis command keeps its
 * place in the offline queue and runs when Redis answers again, which is harmless wherever
 * Concord uses this (every job id is deterministic, every Redis script idempotent or a limit).
 * A rejection that comes after the deadline is swallowed, so it is not an unhandled one.
 */
export function withinMs<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const passed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlinePassed(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([work, passed]).finally(() => clearTimeout(timer));
}

/** One thing to close at shutdown: `close` gets at most `ms`, then `force` (if any) runs. */
export interface ClosingStep {
  name: string;
  close(): Promise<unknown> | unknown;
  /** The most this step may take (never more than what is left of the whole). */
  ms?: number;
  /** Runs once `close` has had its time: drop connections, kill children. */
  force?(): unknown;
}

/**
 * Closes `steps` one after another within `totalMs` in all: each gets its own `ms` (or what is
 * left), and one that does not finish in time is forced and logged, and the next one runs. A
 * process stopping with Redis or Postgres gone thus still stops, its work in flight left to
 * the recovery every restart runs (the reconciler takes claims back, re-adds missing jobs).
 * Returns the names of the steps that had to be forced.
 */
export async function closeWithin(
  totalMs: number,
  steps: readonly ClosingStep[],
  logger?: Logger,
): Promise<string[]> {
  const end = Date.now() + totalMs;
  const forced: string[] = [];
  for (const step of steps) {
    const left = Math.max(0, end - Date.now());
    const ms = Math.min(step.ms ?? left, left);
    try {
      await withinMs(
        ms,
        step.name,
        Promise.resolve().then(() => step.close()),
      );
    } catch (err) {
      forced.push(step.name);
      logger?.warn(
        { step: step.name, err: err instanceof Error ? err.message : String(err) },
        'shutdown step did not finish; forced',
      );
      try {
        step.force?.();
      } catch {}
    }
  }
  return forced;
}

/**
 * ioredis states of a client that lost its connection and has not got it back: a command sent
 * now waits for the next reconnection attempt (seconds), so a caller with a deadline fails now.
 */
export const LOST: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);
