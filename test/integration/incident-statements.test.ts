import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { afterEach, beforeEach, expect } from 'vitest';
import { renderPlainText } from '../../src/chat/message.js';
import { channelRef, userRef } from '../../src/chat/refs.js';
import { openStorage, type Storage } from '../../src/db/client.js';
import { makeTestCore, type TestCore } from '../support/core.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';
import { MemoryChat } from '../support/memory-chat.js';
import { itWithPostgresServer, openTestStorage } from '../support/storage.js';

// What one `/incident open` costs in statements, read off the wire between Concord and Postgres:
// every Execute (extended protocol) and Query (simple protocol) a client sends.

/** A TCP proxy in front of Postgres that notes the text of every statement its clients run. */
async function startStatementLog(target: URL) {
  const statements: string[] = [];
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    const parsed = new Map<string, string>();
    let bound = '';
    let started = false;
    let buffer = Buffer.alloc(0);
    const strings = (body: Buffer, n: number) => {
      const out: string[] = [];
      let at = 0;
      while (out.length < n) {
        const end = body.indexOf(0, at);
        out.push(body.toString('utf8', at, end));
        at = end + 1;
      }
      return out;
    };
    client.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          // The start-up message has no type byte (an SSL request comes before it).
          if (buffer.length < 8 || buffer.length < buffer.readInt32BE(0)) return;
          started = buffer.readInt32BE(4) !== 80877103;
          buffer = buffer.subarray(buffer.readInt32BE(0));
          continue;
        }
        if (buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) return;
        const type = String.fromCharCode(buffer[0] as number);
        const body = buffer.subarray(5, 1 + buffer.readInt32BE(1));
        buffer = buffer.subarray(1 + buffer.readInt32BE(1));
        if (type === 'P') {
          const [name = '', text = ''] = strings(body, 2);
          parsed.set(name, text);
        } else if (type === 'B') {
          bound = parsed.get(strings(body, 2)[1] ?? '') ?? '?';
        } else if (type === 'E') {
          statements.push(bound);
        } else if (type === 'Q') {
          statements.push(strings(body, 1)[0] ?? '');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    statements,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `insert incidents`, `select organisations`, `begin`: the verb and the first table named. */
function label(statement: string): string {
  const text = statement.trim().toLowerCase();
  const verb = text.split(/\s+/)[0] ?? '';
  const table =
    verb === 'select'
      ? /\bfrom "(\w+)"/.exec(text)?.[1]
      : /^(?:insert into|update) "(\w+)"/.exec(text)?.[1];
  return table ? `${verb} ${table}` : verb;
}

let base: Storage & { url?: string };
let log: Awaited<ReturnType<typeof startStatementLog>>;
let storage: Storage;
let t: TestCore;
let seq = 0;

beforeEach(async () => {
  base = await openTestStorage();
  log = await startStatementLog(new URL(base.url as string));
  storage = await openStorage({ databaseUrl: log.url });
  t = await makeTestCore({ storage });
  t.core.chat.register(new MemoryChat('slack'));
  const est = await makeOrganisation(t.db, { code: 'EST', kind: 'delegation' });
  const acme = await makeOrganisation(t.db, { code: 'ACME' });
  await makePerson(t.db, { handle: 'kadri', orgId: est.id, role: 'delegate', slack: 'U1' });
  const bob = await makePerson(t.db, {
    handle: 'bob',
    orgId: acme.id,
    role: 'liaison',
    slack: 'U2',
  });
  await makeContact(t.db, { orgId: acme.id, personId: bob.id });
});

afterEach(async () => {
  await t.close();
  await storage.close();
  await log.close();
  await base.close();
});

async function open(title: string) {
  const reply = await t.core.inbound.command({
    deliveryKey: `k-${++seq}`,
    user: userRef('slack', 'U1'),
    channel: channelRef('slack', 'COPS'),
    text: `/incident open ${title} severity:high orgs:ACME`,
  });
  const text = renderPlainText(reply?.message ?? {});
  expect(text).toContain('opened');
  expect(text).not.toContain('prepared');
}

itWithPostgresServer(
  'opens an incident and makes its channel in 17 statements, the first pass reloading nothing',
  async () => {
    await open('Warm-up');
    log.statements.length = 0;
    await open('Wiper at the port');
    // A connection opened meanwhile asks for the server's types first: not the command's doing.
    const statements = log.statements.filter((s) => !s.includes('pg_catalog')).map(label);
    const begin = statements.indexOf('begin');
    const commit = statements.indexOf('commit');
    expect(statements.slice(0, begin), log.statements.join('\n')).toEqual([
      'insert inbound_deliveries',
      'select platform_identities', // the speaker
    ]);
    // In the transaction: the order of the writes sent together is the driver's.
    expect(statements.slice(begin, commit + 1).sort(), log.statements.join('\n')).toEqual(
      [
        'begin',
        'select organisations', // the named ones, with their primary contacts
        'select platform_identities', // the opener's accounts
        'insert ref_counters',
        'insert incidents',
        'insert incident_parties',
        'insert incident_members',
        'insert incident_timeline',
        'insert audit_log',
        'insert scheduled_items',
        'insert incident_channels',
        'commit',
      ].sort(),
    );
    // The provisioner's first pass: no lease to claim, nothing to load, the channel recorded with
    // its invitations, then the card, then the incident marked ready.
    expect(statements.slice(commit + 1), log.statements.join('\n')).toEqual([
      'update incident_channels',
      'update incident_channels',
      'update incidents',
    ]);
  },
);
