import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNpm } from './run-process.js';

// `npm run directory:import -- <file>` as an operator runs it, on the embedded database.
// Each of the first two tests starts two processes (npm, tsx, a PGlite migrated on first open):
// about 4 s each on a quiet machine, past the default 30 s with other test files on both cores.
const TWO_PROCESSES_MS = 90_000;
let dataDir: string;
const env = () => ({ CONCORD_DATA_DIR: dataDir });

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'concord-import-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm run directory:import', () => {
  it(
    'refuses a bad file with file:line and exit 1, importing nothing',
    async () => {
      const bad = join(dataDir, 'bad.yaml');
      writeFileSync(
        bad,
        'organisations:\n  - code: EST\n    name: Estonia\n    kind: delegation\ncontacts:\n  - org: EST\n    capability: legal\n    primary: nobody\n',
      );
      const result = await runNpm(['run', 'directory:import', '--', bad], { env: env() });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `concord: ${bad}:6: unknown person nobody in EST legal; nothing imported`,
      );
      const who = await runNpm(['start'], { env: { ...env(), PORT: '0' }, stdin: '/org list\n' });
      expect(who.stdout).toContain('No organisations yet');
    },
    TWO_PROCESSES_MS,
  );

  it(
    'imports the sample directory, and a second import changes nothing',
    async () => {
      const sample = 'src/directory/sample-directory.yaml';
      const first = await runNpm(['run', 'directory:import', '--', sample], { env: env() });
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('organisations: 38 added, 0 updated');
      expect(first.stdout).toContain('contact lists: 87 changed, 0 unchanged');
      const second = await runNpm(['run', 'directory:import', '--', sample], { env: env() });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('contact lists: 0 changed, 87 unchanged');
      expect(second.stdout).toContain('nothing changed');
    },
    TWO_PROCESSES_MS,
  );

  it('says how to call it when the file is missing', async () => {
    const result = await runNpm(['run', 'directory:import'], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('concord: usage: npm run directory:import -- <file.yaml>');
  });
});
