import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnerTestCase } from 'vitest';
import type { FaultWorld } from './world.js';

/** One message a person must see exactly once, and how many copies of it they see. */
export interface Expectation {
  label: string;
  copies(): number;
}

/** What a fault cost: messages never seen, and copies beyond the first. */
export interface Tally {
  expected: number;
  lost: number;
  doubled: number;
  /** Labels of the lost messages, and of the doubled ones with their copy count. */
  missing: string[];
  doubles: string[];
}

export function tally(expectations: readonly Expectation[]): Tally {
  const t: Tally = { expected: expectations.length, lost: 0, doubled: 0, missing: [], doubles: [] };
  for (const e of expectations) {
    const n = e.copies();
    if (n === 0) {
      t.lost++;
      t.missing.push(e.label);
    } else if (n > 1) {
      t.doubled += n - 1;
      t.doubles.push(`${e.label} ×${n}`);
    }
  }
  return t;
}

export interface Settled {
  tally: Tally;
  /** From `since` until every message was seen and the outbox had nothing open; null: never. */
  settledMs: number | null;
  deliveries: Record<string, number>;
}

/**
 * Waits (up to `timeoutMs` after `since`) until every expected message has been seen and
 * Concord owes nothing more (`FaultWorld.owed`: no delivery pending or sending, no scheduled item
 * overdue, no incident's channels behind), then waits `graceMs` more for a late copy (a retry of
 * a post that landed), and counts. Gives up early when Concord owes nothing and nothing has
 * changed for `quietMs`: what is missing then (failed deliveries) never comes. A database that
 * does not answer counts as work still owed.
 */
export async function settle(
  world: FaultWorld,
  expectations: readonly Expectation[],
  options: { since: number; timeoutMs: number; graceMs?: number; quietMs?: number },
): Promise<Settled> {
  let settledMs: number | null = null;
  let last = '';
  let quietSince = Date.now();
  while (Date.now() - options.since < options.timeoutMs) {
    const lost = tally(expectations).lost;
    const owed = await world.owed().catch(() => null);
    const open = !owed || owed.deliveries + owed.overdue + owed.incidents > 0;
    if (!open && lost === 0) {
      settledMs = Date.now() - options.since;
      break;
    }
    const now = JSON.stringify({ lost, owed });
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (!open && Date.now() - quietSince > (options.quietMs ?? 15_000)) {
      break;
    }
    await sleep(250);
  }
  await sleep(options.graceMs ?? 2_000);
  const deliveries = await world.deliveryStates().catch(() => ({ unreadable: 1 }));
  return { tally: tally(expectations), settledMs, deliveries };
}

/** One line of the suite's summary. */
export interface FaultOutcome {
  fault: string;
  expected: number;
  lost: number;
  doubled: number;
  /** From the fault until everything was delivered (null: it never was). */
  settledMs: number | null;
  /** Answers that came, but past the platform's deadline (where the fault measures answers). */
  late?: number;
  /** Anything else the fault measured (worst answer time, restart time, rows…). */
  notes?: string;
}

declare module 'vitest' {
  interface TaskMeta {
    faults?: FaultOutcome[];
  }
}

/** Prints the fault's line and keeps it on the test for the suite's table (`reporter.ts`). */
export function reportFault(
  task: Readonly<RunnerTestCase>,
  outcome: FaultOutcome,
  t?: Tally,
): void {
  const settled =
    outcome.settledMs === null ? 'never settled' : `settled in ${outcome.settledMs} ms`;
  const lines = [
    `fault: ${outcome.fault} — lost ${outcome.lost}, doubled ${outcome.doubled}${outcome.late === undefined ? '' : `, late ${outcome.late}`} (of ${outcome.expected}; ${settled}${outcome.notes ? `; ${outcome.notes}` : ''})`,
  ];
  if (t?.missing.length) lines.push(`  lost: ${t.missing.slice(0, 10).join('; ')}`);
  if (t?.doubles.length) lines.push(`  doubled: ${t.doubles.slice(0, 10).join('; ')}`);
  console.log(lines.join('\n'));
  task.meta.faults = [...(task.meta.faults ?? []), outcome];
}
