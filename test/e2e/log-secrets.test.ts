import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../fakes/discord/index.js';
import { type FakeSlack, startFakeSlack } from '../fakes/slack/index.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';
import { itWithPostgresServer } from '../support/storage.js';

// Concord as a real process at the most talkative log level, on both platforms, through a
// start, commands that work and commands that fail, forged requests, platform errors and a
// stop: every line it logs is JSON, commands carry a correlation id, and no line holds a token,
// the signing secret or the database password, however it is spelled.

const ROOT = new URL('../..', import.meta.url).pathname;
const DATABASE = `concord_e2e_log_secrets_${process.pid}`;
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/13`;
// Postgres here trusts local connections, so the password is accepted and ignored: it is only
// there to be looked for in the logs.
const DB_PASSWORD = 'pg-pass-4b1d2e9c7a';

let slack: FakeSlack | undefined;
let discord: FakeDiscord | undefined;
let child: ChildProcess | undefined;
const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await slack?.close();
  await discord?.close();
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`).catch(() => {});
  await admin.end();
  const redis = new Redis(REDIS_URL);
  await redis.flushdb().catch(() => {});
  redis.disconnect();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A secret and the other ways it could show up in a log line. */
function spellings(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    Buffer.from(secret).toString('base64'),
    JSON.stringify(secret).slice(1, -1),
  ];
}

describe('what Concord logs', () => {
  itWithPostgresServer(
    'is JSON, carries correlation ids, and never a token or a secret',
    async () => {
      slack = await startFakeSlack({ rateLimits: false });
      discord = await startFakeDiscord();
      const s = slack;
      const d = discord;
      const kadri = s.addUser({ name: 'kadri' });
      const ops = s.addChannel({ name: 'ops', members: [s.botUserId, kadri.id] });
      await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
      await admin.unsafe(`create database ${DATABASE}`);
      const url = new URL(databaseUrl(DATABASE));
      url.password = DB_PASSWORD;
      const port = await freePort();

      child = spawn(process.execPath, ['--import', 'tsx', 'adapters/main.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...s.concordEnv(),
          ...d.concordEnv(),
          DISCORD_PUBLIC_KEY: d.publicKey,
          DATABASE_URL: url.toString(),
          REDIS_URL,
          PORT: String(port),
          CONCORD_ADMINS: `slack:${kadri.id}`,
          LOG_LEVEL: 'trace',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const events = `http://127.0.0.1:${port}/slack/events`;
      const deadline = Date.now() + 60_000;
      while (
        !(await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(output);
        await sleep(100);
      }

      // Commands that work, fail for a reason, fail inside a platform call, and forgeries.
      // One at a time, each answered before the next, so each finds the directory its
      // predecessors made.
      const say = async (text: string) => {
        const [command = '', ...rest] = text.split(' ');
        const answered = s.responses.length + 1;
        await s.sendCommand(events, {
          command,
          text: rest.join(' '),
          user_id: kadri.id,
          channel_id: ops.id,
        });
        const until = Date.now() + 10_000;
        while (s.responses.length < answered && Date.now() < until) await sleep(50);
      };
      await say('/concord whoami');
      await say('/org add EST name:Estonia kind:delegation');
      await say(`/org member <@${kadri.id}> org:EST role:delegate`);
      s.failNext('conversations.create', { status: 500, times: 3 });
      await say('/incident open Leaky pipes severity:high');
      s.failNext('conversations.create', { error: 'invalid_auth' });
      await say('/incident open Bad token severity:high');
      await say('/org add code:X');
      await fetch(events, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-slack-signature': 'v0=00',
        },
        body: `token=${s.botToken}&command=/concord&text=whoami`,
      });
      await d.sendCommand({ name: 'concord', subcommand: 'whoami' });
      await fetch(`http://127.0.0.1:${port}/discord/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bot ${d.botToken}` },
        body: JSON.stringify({ type: 1, token: d.botToken }),
      });
      await fetch(`http://127.0.0.1:${port}/metrics`);
      await sleep(3_000);
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;

      const lines = output.split('\n').filter((line) => line.trim() !== '');
      expect(lines.length).toBeGreaterThan(20);
      const records = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`a log line that is not JSON: ${line}`);
        }
      });
      // Every command is a line under its own correlation id; the failed platform calls are there
      // too, with what failed; and the Slack SDK's own trace of each request's headers.
      const handled = records.filter((r) => r.msg === 'command handled');
      expect(handled.length).toBe(7);
      expect(new Set(handled.map((r) => r.correlationId)).size).toBe(7);
      expect(records.some((r) => r.msg === 'incident provisioning stopped')).toBe(true);
      expect(records.some((r) => String(r.msg).includes('Authorization'))).toBe(true);

      const secrets = {
        'the Slack bot token': s.botToken,
        'the Slack signing secret': s.signingSecret,
        'the Discord bot token': d.botToken,
        'the database password': DB_PASSWORD,
      };
      for (const [name, secret] of Object.entries(secrets)) {
        const leaks = lines.filter((line) => spellings(secret).some((form) => line.includes(form)));
        expect(leaks, `${name} in the logs`).toEqual([]);
      }
    },
    120_000,
  );
});
