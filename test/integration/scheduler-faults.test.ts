import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { scheduleItem } from '../../src/jobs/items.js';
import { createLogger } from '../../src/log.js';
import { startPrivateRedis } from '../../src/redis/private-server.js';
import { eventually, firings, type JobsHarness, makeJobsHarness, sleep } from '../support/jobs.js';
import { itWithPostgresServer, openTestStorage } from '../support/storage.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scheduleMany(
  jobs: JobsHarness,
  db: Parameters<typeof scheduleItem>[0],
  n: number,
  firstInMs: number,
  spreadMs: number,
) {
  const start = Date.now() + firstInMs;
  const refs = [];
  for (let i = 0; i < n; i++) {
    refs.push(
      await scheduleItem(db, {
        kind: 'test.record',
        subject: `r${i}`,
        dueAt: new Date(start + Math.floor((i * spreadMs) / n)),
      }),
    );
  }
  await jobs.scheduler.enqueue(refs);
  return refs;
}

describe('faults in the middle of scheduled work', () => {
  it('FLUSHALL on Redis loses nothing: the reconciler re-enqueues, each item fires exactly once', async () => {
    const storage = await openTestStorage();
    cleanups.push(() => storage.close());
    const dir = mkdtempSync(join(tmpdir(), 'concord-flush-'));
    const redis = await startPrivateRedis(dir, createLogger('silent'));
    cleanups.push(async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const jobs = makeJobsHarness(storage.db, {
      connection: { path: redis.socket },
      reconcileEveryMs: 1_000,
    });
    cleanups.push(() => jobs.close());
    await jobs.jobs.start();
    jobs.startWorker();

    await scheduleMany(jobs, storage.db, 60, 1_000, 2_000);
    await eventually(async () => (await firings(storage.db)).size > 0, 5_000, 'the first firings');
    const wipe = new Redis({ path: redis.socket });
    expect(await wipe.flushall()).toBe('OK');
    expect(await wipe.dbsize()).toBe(0);
    wipe.disconnect();

    await eventually(async () => (await firings(storage.db)).size === 60, 15_000, 'all 60 firings');
    await sleep(1_500);
    const fired = await firings(storage.db);
    expect(fired.size).toBe(60);
    expect([...fired.values()].every((n) => n === 1)).toBe(true);
  });

  itWithPostgresServer(
    'a worker killed with SIGKILL mid-job loses and doubles nothing',
    async () => {
      const storage = await openTestStorage();
      cleanups.push(() => storage.close());
      const jobs = makeJobsHarness(storage.db);
      cleanups.push(() => jobs.close());
      const url = storage.url;
      if (!url) throw new Error('this test needs a Postgres server the child process can reach');

      await scheduleMany(jobs, storage.db, 12, 300, 600);
      const child = spawn('node', ['--import', 'tsx', 'test/support/scheduled-worker-process.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: url,
          REDIS_HOST: jobs.connection.host ?? '127.0.0.1',
          REDIS_PORT: String(jobs.connection.port ?? 6379),
          PREFIX: jobs.prefix,
          SLOW_MS: '5000',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let started = 0;
      child.stdout.on('data', (d: Buffer) => {
        started += (d.toString().match(/^started /gm) ?? []).length;
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await eventually(
        async () => started >= 4,
        20_000,
        'the child to be in the middle of four jobs',
      );
      child.kill('SIGKILL');
      await exited;
      expect(await firings(storage.db)).toEqual(new Map());

      jobs.startWorker({ stalledIntervalMs: 500 });
      await eventually(
        async () => (await firings(storage.db)).size === 12,
        20_000,
        'all 12 firings',
      );
      await sleep(1_000);
      const fired = await firings(storage.db);
      expect([...fired.values()].every((n) => n === 1)).toBe(true);
    },
    60_000,
  );
});
