import fc from 'fast-check';

/** Cases per entrance (`FUZZ_RUNS`, default 10,000). */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

/** The run's seed: `FUZZ_SEED` to replay one, otherwise a fresh one each run. */
export const FUZZ_SEED =
  process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== ''
    ? Number(process.env.FUZZ_SEED)
    : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;

// Each shrinking step replays a whole batch against the stack: after this many, the smallest
// failing batch found so far is reported rather than a smaller one searched for.
const SHRINK_BUDGET = 30;

/**
 * Runs `check` on batches of `batchSize` generated cases until at least FUZZ_RUNS cases have
 * run, with FUZZ_SEED. A batch is the unit the fuzz checks the database and Redis around (a
 * snapshot per case would cost more than the case). A failure names the seed to replay it with.
 */
export async function fuzzInBatches<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  batchSize: number,
  check: (batch: T[]) => Promise<void>,
): Promise<{ cases: number; seed: number }> {
  const batches = Math.ceil(FUZZ_RUNS / batchSize);
  let failed = false;
  let afterFailure = 0;
  let cases = 0;
  const property = fc.asyncProperty(
    fc.array(arb, { minLength: batchSize, maxLength: batchSize }),
    async (batch) => {
      if (failed && ++afterFailure > SHRINK_BUDGET) return;
      try {
        await check(batch);
        if (!failed) cases += batch.length;
      } catch (error) {
        // Shrinking replays batches against a stack the failure may have changed: the first
        // failure is printed whole, in case the shrunk one ends up a different one.
        if (!failed) console.error(`[fuzz] ${name}: first failure:`, error);
        failed = true;
        throw error;
      }
    },
  );
  try {
    await fc.assert(property, { seed: FUZZ_SEED, numRuns: batches });
  } catch (error) {
    const replay = `FUZZ_SEED=${FUZZ_SEED} FUZZ_RUNS=${FUZZ_RUNS}`;
    console.error(`[fuzz] ${name} failed; replay with ${replay}`);
    if (error instanceof Error)
      error.message = `[fuzz ${name}] replay with ${replay}\n${error.message}`;
    throw error;
  }
  return { cases, seed: FUZZ_SEED };
}

/**
 * Listens for what would take the process down: an uncaught exception or an unhandled rejection
 * anywhere in it while the fuzz runs. `check` throws if any has fired.
 */
export function watchProcess(): { check(): void; stop(): void; fired: unknown[] } {
  const fired: unknown[] = [];
  const onError = (error: unknown) => fired.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    fired,
    check() {
      if (fired.length > 0)
        throw new Error(
          `the process saw ${fired.length} uncaught error(s); the first: ${String(
            fired[0] instanceof Error ? (fired[0].stack ?? fired[0]) : fired[0],
          )}`,
        );
    },
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** Counts by label, for the summary a fuzz prints at the end. */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }
  count(label: string): number {
    return this.counts.get(label) ?? 0;
  }
  toString(): string {
    return [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, n]) => `${label}=${n}`)
      .join(' ');
  }
}

/**
 * Wall time and CPU time (this process, all its threads) since `start`, for the summary line: on
 * a shared machine the CPU time says more about what the fuzz costs than the wall time.
 */
export function elapsed(start: { wall: number; cpu: NodeJS.CpuUsage }): string {
  const cpu = process.cpuUsage(start.cpu);
  const wall = (performance.now() - start.wall) / 1000;
  return `${wall.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`;
}

export const startClock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
