import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import type { FaultOutcome } from './ledger.js';

/**
 * Ends `npm run test:faults` with one table of every fault the suite played (what each test
 * recorded with `reportFault`): lost and doubled messages, how long until everything had
 * arrived, and whether its test passed (a test also fails on what the table does not show, such
 * as an answer slower than the platform's deadline: its own line says). Also written to
 * `bench-results/faults.json`.
 */
export default class FaultsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows: (FaultOutcome & { test: string; state: string; durationMs: number })[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const diagnostic = test.diagnostic();
        for (const fault of test.meta().faults ?? []) {
          rows.push({
            ...fault,
            test: test.fullName,
            state: test.result().state,
            durationMs: Math.round(diagnostic?.duration ?? 0),
          });
        }
      }
    }
    if (rows.length === 0) return;
    const width = Math.max(5, ...rows.map((r) => r.fault.length));
    const lines = [
      '',
      `${'fault'.padEnd(width)}  expected  lost  doubled  late  settled (ms)  test (s)  test`,
      ...rows.map(
        (r) =>
          `${r.fault.padEnd(width)}  ${String(r.expected).padStart(8)}  ${String(r.lost).padStart(4)}  ${String(r.doubled).padStart(7)}  ${String(r.late ?? '-').padStart(4)}  ${String(r.settledMs ?? 'never').padStart(12)}  ${(r.durationMs / 1000).toFixed(1).padStart(8)}  ${r.state}`,
      ),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const dir = join(process.cwd(), 'bench-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'faults.json'),
      `${JSON.stringify({ at: new Date().toISOString(), faults: rows }, null, 2)}\n`,
    );
  }
}
