import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import type { Database, Storage } from '../../../src/db/client.js';
import { testRedis } from '../../support/jobs.js';

/**
 * "Nothing is written", measured: a checksum of every row of every table in the database, and
 * of every Redis key under the stack's prefix. Tables are found in the catalogue, so a table a
 * later migration adds is watched without anyone remembering to list it.
 *
 * Left out, on purpose:
 * - `public.inbound_deliveries`: the core records the delivery key of every command, button and
 *   message before it runs it (`claimDelivery` in src/core.ts, relay-message.ts, relay-reply.ts),
 *   refused ones included, because the key is what makes a platform's retry a no-op and the core
 *   cannot know before running a command that it will be refused. That is by design (design.md,
 *   "Idempotent inbound"); its row count is still taken (`inboundKeys`) and each fuzz reports it.
 * - Redis `<prefix>:alive*`: the process's liveness heartbeat, rewritten every 5 s by a timer.
 * - Redis `<prefix>:slack:signature:*`: the Slack screen's replay memory, shared by the
 *   instances behind one Request URL; every request the screen accepts is remembered for ten
 *   minutes, before anything judges it, which is what refuses its replay.
 */
export const UNWATCHED_TABLE = 'public.inbound_deliveries';

export interface Snapshot {
  /** `schema.table` → `rows:md5`. */
  tables: Map<string, string>;
  /** Redis key → sha1 of its DUMP. */
  redis: Map<string, string>;
  /** Rows of inbound_deliveries. */
  inboundKeys: number;
}

export class WriteWatch {
  private constructor(
    private readonly db: Database,
    private readonly redis: Redis,
    private readonly prefix: string | undefined,
    private readonly query: string,
  ) {}

  /**
   * Watches the database behind `storage` (Postgres or PGlite), and Redis keys under `prefix`
   * when given.
   */
  static async open(storage: Storage, prefix?: string): Promise<WriteWatch> {
    const tables = await rowsOf<{ schema: string; name: string }>(
      storage.db,
      `select table_schema as schema, table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
      order by 1, 2`,
    );
    const parts = tables.map(({ schema, name }) => {
      const qualified = `${quoteIdent(schema)}.${quoteIdent(name)}`;
      const label = `${schema}.${name}`.replaceAll("'", "''");
      const hash =
        label === UNWATCHED_TABLE
          ? `''`
          : `coalesce(md5(string_agg(md5(x::text), ',' order by md5(x::text))), '')`;
      return `select '${label}' as t, count(*)::int as n, ${hash} as h from ${qualified} x`;
    });
    const redis = new Redis({ ...testRedis(), maxRetriesPerRequest: 1 });
    return new WriteWatch(storage.db, redis, prefix, parts.join(' union all '));
  }

  async snapshot(): Promise<Snapshot> {
    const rows = await rowsOf<{ t: string; n: number; h: string }>(this.db, this.query);
    const tables = new Map<string, string>();
    let inboundKeys = 0;
    for (const { t, n, h } of rows) {
      if (t === UNWATCHED_TABLE) inboundKeys = n;
      else tables.set(t, `${n}:${h}`);
    }
    return { tables, redis: await this.redisKeys(), inboundKeys };
  }

  /**
   * For a failure message: what changed between two snapshots, with the newest rows (at most
   * `rows`) of each table that changed, which usually say who did what (the audit log above all).
   */
  async describe(before: Snapshot, after: Snapshot, rows = 4): Promise<string> {
    const lines = changes(before, after);
    for (const line of lines) {
      const table = /^table (\S+) /.exec(line)?.[1];
      if (!table) continue;
      const [schema = 'public', name = ''] = table.split('.');
      const newest = await rowsOf<{ row: string }>(
        this.db,
        `select x::text as row from ${quoteIdent(schema)}.${quoteIdent(name)} x order by ctid desc limit ${rows}`,
      );
      lines.push(`  newest in ${table}: ${newest.map((r) => r.row.slice(0, 300)).join('\n    ')}`);
    }
    return lines.join('\n');
  }

  private async redisKeys(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.prefix) return out;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.prefix}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      keys.push(
        ...batch.filter(
          (k) =>
            !k.startsWith(`${this.prefix}:alive`) &&
            !k.startsWith(`${this.prefix}:slack:signature:`),
        ),
      );
    } while (cursor !== '0');
    keys.sort();
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.dumpBuffer(key);
    const dumps = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const dump = dumps[i]?.[1] as Buffer | null | undefined;
      // A key that expired between SCAN and DUMP is gone: count it as absent.
      if (dump) out.set(key, createHash('sha1').update(dump).digest('hex'));
    });
    return out;
  }

  /** The database stays open: it is the storage's, closed by whoever opened it. */
  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** What changed between two snapshots, one line each; empty when nothing did. */
export function changes(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  const compare = (what: string, a: Map<string, string>, b: Map<string, string>) => {
    for (const [key, value] of b) {
      const old = a.get(key);
      if (old === undefined) out.push(`${what} ${key} appeared (${value})`);
      else if (old !== value) out.push(`${what} ${key} changed: ${old} → ${value}`);
    }
    for (const key of a.keys()) if (!b.has(key)) out.push(`${what} ${key} disappeared`);
  };
  compare('table', before.tables, after.tables);
  compare('redis key', before.redis, after.redis);
  return out;
}

/** postgres.js returns the rows themselves, PGlite a result holding them. */
async function rowsOf<T>(db: Database, query: string): Promise<T[]> {
  const result = (await db.execute(sql.raw(query))) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
