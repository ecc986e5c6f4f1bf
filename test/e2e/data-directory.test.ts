import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, until } from '../support/ports.js';
import { runNpm, spawnProject } from './run-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'concord-held-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** The shell as a real process whose input the test writes line by line. */
function startShell(env: Record<string, string>) {
  const { child, output } = spawnProject(
    process.execPath,
    ['--import', 'tsx', 'adapters/main.ts'],
    env,
  );
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    exited,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    /** Writes a line and waits until the output holds `expected`. */
    async say(line: string, expected: string | RegExp): Promise<void> {
      child.stdin.write(`${line}\n`);
      const seen = await until(
        () =>
          typeof expected === 'string'
            ? output.stdout.includes(expected)
            : expected.test(output.stdout),
        60_000,
      );
      if (!seen)
        throw new Error(`no "${expected}" after ${line}:\n${output.stdout}\n${output.stderr}`);
    },
  };
}

describe('one Concord process per data directory', () => {
  it('refuses a second npm start and a directory import in one line, and the first keeps every write', async () => {
    const port = await freePort();
    const first = startShell({ CONCORD_DATA_DIR: dataDir, PORT: String(port) });
    await first.say('/org add EST name:"Estonia" kind:delegation', 'EST');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const holder = first.child.pid;

    const refusal = new RegExp(
      `^concord: ${dataDir} is in use by another Concord process \\(pid ${holder}\\): stop it first, or set CONCORD_DATA_DIR to another directory\\n$`,
    );
    const imported = await runNpm(
      ['run', 'directory:import', '--', 'src/directory/sample-directory.yaml'],
      { env: { CONCORD_DATA_DIR: dataDir } },
    );
    expect(imported.stderr).toMatch(refusal);
    expect(imported.stdout).toBe('');
    expect(imported.code).toBe(1);

    // A second shell whose port is free too: it would have run, and written DEU, if let in.
    const second = await runNpm(['start'], {
      env: { CONCORD_DATA_DIR: dataDir, PORT: String(await freePort()) },
      stdin: '/org add DEU name:"Germany" kind:delegation\n',
    });
    expect(second.stderr).toMatch(refusal);
    expect(second.stdout).toBe('');
    expect(second.code).toBe(1);

    // The first still has its database and its private redis-server.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    await first.say('/org add ACME name:"Acme Security" kind:industry', 'ACME');
    await first.say('/forum schedule Yearly session at:+1h', /FS-\d{4}-1|scheduled/i);
    first.child.stdin.end();
    expect(await first.exited).toBe(0);
    expect(first.stderr).toBe('');

    // Every write of the first is there, none of the refused ones.
    const after = await runNpm(['start'], {
      env: { CONCORD_DATA_DIR: dataDir, PORT: '0' },
      stdin: '/org list\n/forum list\n',
    });
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('EST');
    expect(after.stdout).toContain('ACME');
    expect(after.stdout).not.toContain('DEU');
    expect(after.stdout).toContain('Yearly session');
    // The sample directory was never imported.
    expect(after.stdout).not.toMatch(/Germany|Bundesamt/);
  }, 120_000);

  it('lets the next process in once the holder is gone, even killed', async () => {
    const port = await freePort();
    const killed = startShell({ CONCORD_DATA_DIR: dataDir, PORT: String(port) });
    await killed.say('/org list', 'EST');
    killed.child.kill('SIGKILL');
    await killed.exited;
    const next = await runNpm(['start'], {
      env: { CONCORD_DATA_DIR: dataDir, PORT: '0' },
      stdin: '/org list\n',
    });
    // (It may say that it found the killed one's redis-server.)
    expect(next.stderr).not.toContain('in use');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('ACME');
  }, 120_000);
});
