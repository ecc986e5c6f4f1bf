import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNpm, scenario } from './run-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'concord-assistance-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start < test/scenarios/assistance.txt', () => {
  it('routes requests and a warning under the TLP rules, refuses what it must, and closes', async () => {
    const run = await runNpm(['start'], {
      env: { CONCORD_DATA_DIR: dataDir, PORT: '0' },
      stdin: scenario('assistance.txt'),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    // AMBER skips ACME's inbox, which is not private in the shell, and says so.
    expect(out).toContain(
      'Sent to: ACME (Bob Stone, direct message), DEU (Anna Berg, direct message)',
    );
    expect(out).toContain('No forensics contact: FRA');
    expect(out).toContain("ACME's inbox is not private: sent to Bob Stone directly");
    expect(out).toMatch(/┊ \[direct message to @bob #\d+\] TLP:AMBER 🆘 AR-2026-1/);
    expect(out).toMatch(/┊ \[direct message to @kadri #\d+\] TLP:AMBER 📨 AR-2026-1/);
    // GREEN may use it.
    expect(out).toContain('Sent to: ACME (inbox)');
    expect(out).toMatch(/┊ \[#acme-inbox #\d+\] TLP:GREEN 🆘 AR-2026-2/);
    expect(out).toContain(
      '⚠ TLP:AMBER+STRICT requests go only to organisations named with to:<codes>, not to:all',
    );
    expect(out).toContain('⚠ nobody to send the request to: no cooking contact at ACME, DEU, FRA');
    expect(out).toContain('⚠ unknown organisation NOPE');
    expect(out).toContain("⚠ only Kadri Tamm's organisation may close AR-2026-1");
    expect(out).toMatch(
      /AR-2026-1 · critical · open · TLP:AMBER · forensics · .* \(DEU: waiting\)/,
    );
    expect(out).toContain('Outstanding: DEU: waiting');
    expect(out).toMatch(
      /┊ \[@bob #\d+ edited\] TLP:AMBER 🆘 AR-2026-1[\s\S]*Status \(ACME\): closed \(resolved\)/,
    );
    expect(out.trimEnd()).toMatch(/AR-2026-1 · critical · closed \(resolved\) ·/);
  }, 60_000);
});
