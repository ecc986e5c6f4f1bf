import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/** A process of the project, in a clean environment (what a shell would have, plus `env`). */
export function spawnProject(command: string, args: string[], env: Record<string, string>) {
  const clean: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) clean[key] = value;
  }
  const child = spawn(command, args, { cwd: ROOT, env: { ...clean, ...env }, stdio: 'pipe' });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => {
    output.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output.stderr += d.toString();
  });
  return { child, output };
}

/** Runs an npm script of the project as a real process, with `stdin` piped in. */
export function runNpm(
  args: string[],
  options: { env: Record<string, string>; stdin?: string; timeoutMs?: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const { child, output } = spawnProject('npm', ['--silent', ...args], options.env);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `npm ${args.join(' ')} did not finish; stdout so far:\n${output.stdout}\nstderr:\n${output.stderr}`,
        ),
      );
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export const scenario = (name: string) =>
  readFileSync(new URL(`../scenarios/${name}`, import.meta.url), 'utf8');

/**
 * The answer printed under the echoed line `› command` of a script: its indented lines.
 * @example answerTo(out, 'press Accept $AR1') // '  ✓ AR-2026-1: ACME accepted'
 */
export function answerTo(
  output: string,
  command: string,
  which: 'first' | 'last' = 'first',
): string {
  const lines = output.split('\n');
  const echoes = (l: string) => l.endsWith(`› ${command}`);
  const at = which === 'first' ? lines.findIndex(echoes) : lines.findLastIndex(echoes);
  if (at < 0) throw new Error(`command not echoed: ${command}\n${output}`);
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => !l.startsWith('  '));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}
