import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNpm, scenario } from './run-process.js';

// `npm start < test/scenarios/forum.txt`: a session six seconds ahead, reminders at 4s and 2s,
// fired by the workers running in the shell process while the script waits.
const dataDir = mkdtempSync(join(tmpdir(), 'concord-forum-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start < test/scenarios/forum.txt', () => {
  it("schedules a session seconds ahead and shows its reminders fire, in each reader's zone", async () => {
    const run = await runNpm(['start'], {
      env: { CONCORD_DATA_DIR: dataDir, PORT: '0' },
      stdin: scenario('forum.txt'),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(
      /#general @kadri › \/forum schedule Not mine at:\+1h\n {2}⚠ only organisers may do that; you are a delegate\n/,
    );
    expect(out).toMatch(
      /#forum @olga › \/forum schedule Dry run again at:\+1h remind:2h\n {2}⚠ remind: 2h before .* is already past\n/,
    );
    const ref = /\[to #forum\] Scheduled (FS-\d{4}-1): Dry run/.exec(out)?.[1];
    expect(ref).toBeDefined();

    const waited = out.slice(out.indexOf('#forum @olga › wait 8s'), out.indexOf('(waited 8s)'));
    const lines = waited.split('\n').filter((l) => l.includes('┊ ['));
    expect(lines).toEqual(
      [
        `  ┊ [#forum #1] TLP:GREEN Forum session ${ref} starts in 4s: Dry run`,
        `  ┊ [direct message to @olga #1] TLP:GREEN Forum session ${ref} starts in 4s: Dry run`,
        `  ┊ [direct message to @kadri #1] TLP:GREEN Forum session ${ref} starts in 4s: Dry run`,
        `  ┊ [#forum #2] TLP:GREEN Forum session ${ref} starts in 2s: Dry run`,
        `  ┊ [direct message to @olga #2] TLP:GREEN Forum session ${ref} starts in 2s: Dry run`,
        `  ┊ [direct message to @kadri #2] TLP:GREEN Forum session ${ref} starts in 2s: Dry run`,
        `  ┊ [#forum #3] TLP:GREEN Forum session ${ref} starts now: Dry run`,
      ].sort((a, b) => waited.indexOf(a) - waited.indexOf(b)),
    );
    expect(waited).toMatch(
      /direct message to @kadri #1[^\n]*\n {2}┊ {2}When: .* EET \(Europe\/Tallinn\)\n {2}┊ {2}Session time: .* CET \(Europe\/Brussels\)/,
    );
    expect(
      out.trimEnd().endsWith('#forum @olga › /forum list\n  No forum sessions scheduled'),
    ).toBe(true);
  }, 60_000);
});
