import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { type FakeDiscord, startFakeDiscord } from '../fakes/discord/index.js';
import { type FakeSlack, startFakeSlack } from '../fakes/slack/index.js';
import { addInboxes, seedEarlyWarningDirectory } from '../support/early-warning-world.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DATABASE = 'concord_bench_fanout';
// A Redis database of the bench's own (the ack bench uses 7), flushed before every run.
const REDIS_DB = 8;

/** One addressed organisation and the inbox its card must land in. */
export interface Recipient {
  org: string;
  platform: 'slack' | 'discord';
  /** The platform's channel id (`G00000042`, a snowflake). */
  channel: string;
}

/**
 * Everything the fan-out bench runs against: both fakes with their rate limits on, the
 * directory seeded in its own Postgres database, and the environment Concord is started with.
 */
export interface FanoutWorld {
  slack: FakeSlack;
  discord: FakeDiscord;
  /** The HQ delegate who sends the alerts, and the Slack channel they send them from. */
  sender: { id: string };
  ops: { id: string };
  recipients: Recipient[];
  databaseUrl: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * `perPlatform` delegations on each platform, each with one `early-warning` primary who is only
 * on that platform and a private inbox there. Codes alternate between the platforms (D0001 Slack,
 * D0002 Discord, …), so the alert's organisations, taken in code order, interleave them.
 */
export async function buildWorld(perPlatform: number): Promise<FanoutWorld> {
  const slack = await startFakeSlack();
  const discord = await startFakeDiscord();
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  const redisUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`;
  try {
    await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
    await admin.unsafe(`create database ${DATABASE}`);
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();

    const { sender, ops, inboxes: recipients } = addInboxes(slack, discord, perPlatform);
    const url = databaseUrl(DATABASE);
    await seedEarlyWarningDirectory(url, sender.id, recipients);

    return {
      slack,
      discord,
      sender,
      ops,
      recipients: recipients.map(({ org, platform, channel }) => ({ org, platform, channel })),
      databaseUrl: url,
      env: {
        DATABASE_URL: url,
        REDIS_URL: redisUrl,
        ...slack.concordEnv(),
        ...discord.concordEnv(),
        LOG_LEVEL: process.env.BENCH_LOG ?? 'error',
        // One sender raises every alert of the bench: the per-person limit is not measured here.
        CONCORD_COMMANDS_PER_MINUTE: '0',
      },
      async close() {
        await slack.close();
        await discord.close();
        await admin.unsafe(`drop database if exists ${DATABASE} with (force)`).catch(() => {});
        await admin.end();
      },
    };
  } catch (err) {
    await slack.close();
    await discord.close();
    await admin.end();
    throw err;
  }
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Concord as a real process (`npm start`'s command line), which the bench may SIGKILL. */
export class ConcordProcess {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly env: Record<string, string>,
    readonly port: number,
  ) {}

  static async create(env: Record<string, string>): Promise<ConcordProcess> {
    return new ConcordProcess(env, await freePort());
  }

  /** Starts it and resolves once /healthz answers, which `main.ts` allows only when ready. */
  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=64', '--import', 'tsx', 'adapters/main.ts'],
      {
        cwd: ROOT,
        env: { ...process.env, ...this.env, PORT: String(this.port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`Concord exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      await sleep(50);
    }
    throw new Error(`Concord did not answer /healthz within ${timeoutMs} ms`);
  }

  /** The running process's pid. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get eventsUrl(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  /** SIGKILL: no handler runs, nothing is flushed or marked. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
