import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface ConcordProcessOptions {
  /**
   * The shell adapter on a pipe: `send` writes lines to its stdin (read as a script), and what
   * it prints is kept in `output`; its log still goes to the log file.
   */
  shell?: boolean;
}

/**
 * Concord as a real process, `npm start`'s command line, on a port of its own, with its output
 * (pino's JSON lines at LOG_LEVEL, warn by default) appended to `<logDir>/concord.log` so a
 * failing fault can show what the process said. Started again after `kill`, it keeps its port.
 */
export class ConcordProcess {
  private child: ChildProcess | undefined;
  /** What the shell printed, over all its runs (`shell` only). */
  output = '';
  private exited: Promise<void> = Promise.resolve();
  /** Every exit that was not asked for (`kill`, `stop`), with its code or signal. */
  readonly unexpectedExits: string[] = [];
  private expectingExit = false;
  starts = 0;

  private constructor(
    private readonly env: Record<string, string>,
    readonly port: number,
    readonly logFile: string,
    private readonly options: ConcordProcessOptions,
  ) {}

  static async create(
    env: Record<string, string>,
    logDir: string,
    options: ConcordProcessOptions = {},
  ): Promise<ConcordProcess> {
    return new ConcordProcess(env, await freePort(), join(logDir, 'concord.log'), options);
  }

  get eventsUrl(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  /** Starts it and resolves once /healthz answers 200, which `main.ts` allows only when ready. */
  async start(timeoutMs = 90_000): Promise<number> {
    const started = Date.now();
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=64', '--import', 'tsx', 'adapters/main.ts'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          LOG_LEVEL: 'warn',
          ...this.env,
          PORT: String(this.port),
        },
        stdio: this.options.shell ? ['pipe', 'pipe', log] : ['ignore', log, log],
      },
    );
    closeSync(log);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.output += chunk;
    });
    child.stdin?.on('error', () => {});
    this.child = child;
    this.starts++;
    this.expectingExit = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.expectingExit) this.unexpectedExits.push(signal ?? `exit ${code}`);
        resolve();
      }),
    );
    const deadline = started + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`Concord exited with ${child.exitCode}:\n${this.logTail(10)}`);
      if (await this.healthy()) return Date.now() - started;
      await sleep(100);
    }
    throw new Error(`Concord did not answer /healthz within ${timeoutMs} ms:\n${this.logTail(10)}`);
  }

  /** Whether /healthz answers 200 (database and Redis both reachable). */
  async healthy(): Promise<boolean> {
    return fetch(`http://127.0.0.1:${this.port}/healthz`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.ok)
      .catch(() => false);
  }

  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** SIGKILL: no handler runs, nothing is flushed or marked. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, as a supervisor stops it; SIGKILL after 20 s. Resolves with the ms it took. */
  async stop(): Promise<number> {
    const child = this.child;
    if (!child || !this.running) return 0;
    const started = Date.now();
    this.expectingExit = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
    return Date.now() - started;
  }

  /** A line on the shell's stdin (`shell` only). */
  send(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }

  /**
   * Closes the shell's stdin, as Ctrl-D or a script's end does, and resolves with the ms until
   * the process exited (SIGKILL after 20 s).
   */
  async endInput(): Promise<number> {
    const child = this.child;
    if (!child || !this.running) return 0;
    const started = Date.now();
    this.expectingExit = true;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
    return Date.now() - started;
  }

  /**
   * Sends `line` to the shell and resolves with the ms until its output, after the echo of the
   * line, contains `needle`; -1 when it did not within `timeoutMs`.
   */
  async ask(line: string, needle: string | RegExp, timeoutMs = 20_000): Promise<number> {
    const from = this.output.length;
    const started = Date.now();
    this.send(line);
    const found = () => {
      const after = this.output.slice(from);
      const echo = after.indexOf(line);
      const answer = echo < 0 ? '' : after.slice(echo + line.length);
      return typeof needle === 'string' ? answer.includes(needle) : needle.test(answer);
    };
    while (Date.now() - started < timeoutMs) {
      if (found()) return Date.now() - started;
      await sleep(10);
    }
    return -1;
  }

  /** How many times the shell printed `needle`. */
  printed(needle: string): number {
    return this.output.split(needle).length - 1;
  }

  /** The process's pid while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** The last lines of the process's output, over all its runs. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
