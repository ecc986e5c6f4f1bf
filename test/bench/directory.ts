import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createConcord } from '../../adapters/concord.js';
import { channelRef, userRef } from '../../src/chat/refs.js';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/db/client.js';
import type { DirectoryFile } from '../../src/directory/directory-file.js';
import { importDirectory } from '../../src/domain/directory/import-directory.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';
import { latencyRow, machine, markdownTable, writeResult } from './report.js';

const DELEGATIONS =
  'ALB BEL BGR CAN CZE DEU DNK ESP EST FIN FRA GBR GRC HRV HUN ISL ITA LTU LUX LVA MKD MNE NLD NOR POL PRT ROU SVK SVN SWE TUR USA'.split(
    ' ',
  );
const COMPANIES = 500;
const PEOPLE = 5_000;
const CONTACTS = 20_000;
const CAPABILITIES = [
  'incident-response',
  'malware-analysis',
  'forensics',
  'threat-intel',
  'legal',
  'early-warning',
];
const ZONES = [
  'Europe/Brussels',
  'Europe/Tallinn',
  'America/New_York',
  'Europe/London',
  'America/Los_Angeles',
  'Europe/Istanbul',
];

/** A deterministic pseudo-random sequence, so every run measures the same directory and queries. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** 32 delegations, 500 companies, 5,000 people, 20,000 contacts, as one directory file. */
export function buildDirectory(): DirectoryFile {
  const organisations = [
    ...DELEGATIONS.map((code) => ({
      code,
      name: `Delegation ${code}`,
      kind: 'delegation' as const,
    })),
    ...Array.from({ length: COMPANIES }, (_, i) => ({
      code: `CO${String(i + 1).padStart(4, '0')}`,
      name: `Company ${i + 1}`,
      kind: 'industry' as const,
    })),
  ];
  const members = new Map<string, string[]>(organisations.map((o) => [o.code, []]));
  const people = Array.from({ length: PEOPLE }, (_, i) => {
    const org = organisations[i % organisations.length]?.code ?? 'ALB';
    const handle = `p${i + 1}`;
    members.get(org)?.push(handle);
    return {
      handle,
      name: `Person ${i + 1}`,
      org,
      role: org.startsWith('CO') ? ('liaison' as const) : ('delegate' as const),
      tz: ZONES[i % ZONES.length] ?? 'UTC',
      ...(i % 3 !== 2 ? { slack: `UB${String(i + 1).padStart(7, '0')}` } : {}),
      ...(i % 2 === 0 ? { discord: String(400000000000000000n + BigInt(i)) } : {}),
    };
  });
  // Every organisation holds every capability; list lengths are spread so they add up to 20,000.
  const lists = organisations.flatMap((o) =>
    CAPABILITIES.map((capability) => ({ org: o.code, capability, size: 0 })),
  );
  for (let i = 0; i < CONTACTS; i++) {
    const list = lists[i % lists.length];
    if (list) list.size++;
  }
  const contacts = lists.map((list, i) => {
    const pool = members.get(list.org) ?? [];
    const rotated = [...pool.slice(i % pool.length), ...pool.slice(0, i % pool.length)].slice(
      0,
      list.size,
    );
    const [primary = '', ...backups] = rotated;
    return { org: list.org, capability: list.capability, primary, backups };
  });
  const located = <T>(items: T[]) => items.map((value, i) => ({ value, line: i + 1 }));
  return {
    source: 'bench-directory',
    organisations: located(organisations),
    people: located(people),
    contacts: located(contacts),
  };
}

export async function benchDirectory(): Promise<void> {
  const name = `concord_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const [{ version } = { version: '?' }] = await admin<{ version: string }[]>`select version()`;
  const storage = await openStorage({ databaseUrl: databaseUrl(name) });
  const stops: (() => Promise<void>)[] = [];
  try {
    const file = buildDirectory();
    const contactCount = file.contacts.reduce((n, c) => n + 1 + c.value.backups.length, 0);
    const importStarted = performance.now();
    await importDirectory({ ctx: { db: storage.db, now: new Date() }, input: { file } });
    const importSeconds = (performance.now() - importStarted) / 1000;

    // Concord as users run it (the composition root), on the bench's database; the commands go
    // straight to the core, in process, so the figure is the core's and the database's.
    const concord = await createConcord({
      config: loadConfig({ DATABASE_URL: databaseUrl(name), REDIS_URL: TEST_REDIS_URL }),
      logger: createLogger('silent'),
      storage,
      prefix: `concord-bench-${process.pid}`,
      http: createHttpServer(createLogger('silent')),
    });
    stops.push(() => concord.stop());
    await concord.start(0);
    const { core } = concord;
    const random = rng(42);
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)] as T;
    const orgCodes = file.organisations.map((o) => o.value.code);
    const speakers = file.people.map((p) => p.value.handle);
    let seq = 0;
    const run = async (text: string) => {
      const started = performance.now();
      const reply = await core.runCommand({
        deliveryKey: `bench-${++seq}`,
        user: userRef('shell', pick(speakers)),
        channel: channelRef('shell', '#bench'),
        text,
      });
      const ms = performance.now() - started;
      if (reply.message.title?.startsWith('⚠') || reply.message.title?.startsWith('Sorry')) {
        throw new Error(`${text}: ${reply.message.title}`);
      }
      return ms;
    };
    const measure = async (label: string, n: number, line: () => string) => {
      for (let i = 0; i < Math.min(500, n); i++) await run(line());
      const samples: number[] = [];
      for (let i = 0; i < n; i++) samples.push(await run(line()));
      return latencyRow(label, samples);
    };

    const rows = [
      await measure(
        '/poc who <capability> org:<code>',
        10_000,
        () => `/poc who ${pick(CAPABILITIES)} org:${pick(orgCodes)}`,
      ),
      await measure(
        '/poc who <capability> (all organisations, first page)',
        2_000,
        () => `/poc who ${pick(CAPABILITIES)}`,
      ),
    ];
    const result = {
      benchmark: 'directory',
      target: '/poc who p99 under 5 ms on real Postgres, answered through the core in-process',
      directory: {
        organisations: file.organisations.length,
        delegations: DELEGATIONS.length,
        companies: COMPANIES,
        people: file.people.length,
        contacts: contactCount,
        importSeconds: Math.round(importSeconds * 100) / 100,
      },
      database: version.split(' on ')[0],
      machine: machine(),
      latencyMs: rows,
      at: new Date().toISOString(),
    };
    const m = result.machine;
    console.log(
      `directory: ${result.directory.organisations} organisations (${DELEGATIONS.length} delegations, ${COMPANIES} companies), ${result.directory.people} people, ${contactCount} contacts; imported in ${result.directory.importSeconds} s`,
    );
    console.log(
      `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${result.database}\n`,
    );
    console.log(
      markdownTable(
        rows.map((r) => ({
          case: r.case,
          n: r.n,
          'p50 ms': r.p50,
          'p90 ms': r.p90,
          'p99 ms': r.p99,
          'max ms': r.max,
        })),
      ),
    );
    const worst = Math.max(...rows.map((r) => r.p99));
    console.log(`\ntarget p99 < 5 ms: ${worst < 5 ? 'met' : 'NOT met'} (worst p99 ${worst} ms)`);
    console.log(`wrote ${writeResult('directory', result)}`);
  } finally {
    for (const stop of stops) await stop();
    await storage.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
