import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountOperationalRoutes } from '../../src/http/health.js';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { connectRedis, type RedisHandle } from '../../src/redis/connect.js';
import { makeTestCore, type TestCore } from '../support/core.js';
import { TEST_REDIS_URL } from '../support/env.js';
import { PrivateRedis } from '../support/private-redis.js';

const logger = createLogger('silent');
let t: TestCore;
let redis: RedisHandle;
let http: HttpServer;
let base: string;
let outage: RedisHandle | undefined;

beforeAll(async () => {
  t = await makeTestCore();
  redis = await connectRedis(
    { REDIS_URL: TEST_REDIS_URL, CONCORD_DATA_DIR: '.concord-unused' },
    logger,
  );
  http = createHttpServer(logger);
  mountOperationalRoutes(
    http,
    [
      { name: 'database', ping: t.storage.ping },
      { name: 'redis', ping: () => (outage ?? redis).ping() },
    ],
    t.metrics,
  );
  base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
});
afterAll(async () => {
  await http.close();
  await redis.close();
  await t.close();
});

describe('/healthz', () => {
  it('answers 200 with the database and Redis checked for real', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      checks: Record<string, { status: string }>;
    };
    expect(body.status).toBe('ok');
    expect(body.checks.database?.status).toBe('ok');
    expect(body.checks.redis?.status).toBe('ok');
  });

  it('answers 503 naming the dependency that is down', async () => {
    // A Redis of its own that really goes away: its server is killed under the client. (Not
    // Concord's private one: that one is started again at once.)
    const server = await PrivateRedis.create();
    outage = await connectRedis({ CONCORD_DATA_DIR: '.unused', REDIS_URL: server.url }, logger);
    await server.kill();
    try {
      const res = await fetch(`${base}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as {
        status: string;
        checks: Record<string, { status: string; error?: string }>;
      };
      expect(body.status).toBe('degraded');
      expect(body.checks.redis).toMatchObject({ status: 'down', error: expect.any(String) });
      expect(body.checks.database?.status).toBe('ok');
    } finally {
      await outage.close();
      outage = undefined;
      await server.destroy();
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('refuses to start against a Redis that does not answer', async () => {
    const dead = await connectRedis(
      { REDIS_URL: 'redis://127.0.0.1:1', CONCORD_DATA_DIR: '.unused' },
      logger,
    ).catch((e: Error) => e);
    expect(dead).toBeInstanceOf(Error);
  });
});

describe('/metrics', () => {
  it('serves Prometheus text counting commands by outcome', async () => {
    await t.run('/concord help');
    await t.run('/poc frob');
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/concord_commands_total\{command="concord help",outcome="ok"\} 1/);
    expect(text).toMatch(/concord_commands_total\{command="unknown",outcome="usage"\} 1/);
    expect(text).toMatch(/concord_dependency_up\{dependency="redis"\} 1/);
    expect(text).toMatch(/concord_command_duration_seconds_bucket/);
  });

  it('answers 404 for unknown paths and 405 for a wrong method', async () => {
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});
