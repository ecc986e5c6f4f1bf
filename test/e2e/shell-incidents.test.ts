import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNpm, scenario } from './run-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'concord-incidents-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start < test/scenarios/incidents.txt', () => {
  it('opens, runs and closes an incident in a simulated channel, refusing what it must', async () => {
    const run = await runNpm(['start'], {
      env: { CONCORD_DATA_DIR: dataDir, PORT: '0' },
      stdin: scenario('incidents.txt'),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    // The year is the one the incident was opened in: the script says `in $INC1`, not its name.
    const year = /✓ INC-(\d{4})-1 opened/.exec(out)?.[1];
    expect(year).toBeDefined();
    const ref = `INC-${year}-1`;
    const channel = `#inc-${year}-1-ransomware-at-the-port`;
    expect(out).toContain(`┊ simulated private channel ${channel} created`);
    expect(out).toContain(`┊ ${channel}: invited @kadri, @bob`);
    expect(out).toContain(`┊ ${channel}: pinned #1`);
    expect(out).toContain(`#general @kadri › in $INC1\n  now in ${channel}\n`);
    // Said in the channel: the core takes it as a platform message; its twins would be elsewhere.
    expect(out).toContain(
      `${channel} @kadri › We isolated the first host; the others are next\n  said in ${channel}: Concord relayed nothing (twin channels are on other platforms)\n`,
    );
    expect(out).toMatch(
      /⚠ TLP:AMBER\+STRICT never goes to a channel shared by several organisations/,
    );
    expect(out).toContain(
      "⚠ run this in an incident's channel, or name it with incident:<INC-ref>",
    );
    expect(out).toContain(`⚠ only the people in ${ref} may change it`);
    expect(out).toContain(`┊ ${channel}: invited @mallory`);
    expect(out).toMatch(
      /┊ {2}- \d{4}-\d\d-\d\d \d\d:\d\d · kadri \(@kadri, EST\) · update: First host isolated/,
    );
    expect(out).toContain(`┊ ${channel} archived`);
    expect(out.indexOf('timeline report')).toBeLessThan(out.indexOf(`${channel} archived`));
    expect(out.trimEnd()).toMatch(
      new RegExp(`${ref} · closed · high · TLP:AMBER · Ransomware at the port \\(ACME, EST\\)$`),
    );
  }, 60_000);
});
