import { count } from 'drizzle-orm';
import { renderPlainText } from '../../src/chat/message.js';
import type { CommandReply } from '../../src/chat/port.js';
import { channelRef, type UserRef, userRef } from '../../src/chat/refs.js';
import { type Core, type CoreOptions, createCore } from '../../src/core.js';
import type { Database, Storage } from '../../src/db/client.js';
import * as schema from '../../src/db/schema/index.js';
import type { ItemRef } from '../../src/jobs/items.js';
import { createLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { openTestStorage } from './storage.js';

export const ADMIN = userRef('shell', 'operator');

export interface TestCore {
  storage: Storage;
  db: Database;
  core: Core;
  metrics: Metrics;
  /** Runs a command line as `user` (default: the bootstrap admin) and returns the reply. */
  run(text: string, user?: UserRef | string): Promise<CommandReply & { text: string }>;
  now: Date;
  close(): Promise<void>;
}

export interface TestCoreOptions {
  admins?: string[];
  /** A fixed time (default 2026-11-22T09:00Z, movable through `now`) or the real clock. */
  now?: Date | 'real';
  /** Share a database with other parts of the test; it is closed by whoever opened it. */
  storage?: Storage;
  enqueue?: (items: readonly ItemRef[]) => Promise<void>;
  deliver?: CoreOptions['deliver'];
  admit?: CoreOptions['admit'];
}

export async function makeTestCore(options: TestCoreOptions = {}): Promise<TestCore> {
  const storage = options.storage ?? (await openTestStorage());
  const metrics = createMetrics();
  const real = options.now === 'real';
  const state = {
    now: options.now instanceof Date ? options.now : new Date('2026-11-22T09:00:00Z'),
  };
  const core = createCore({
    db: storage.db,
    logger: createLogger(process.env.TEST_LOG ?? 'silent'),
    metrics,
    admins: options.admins ?? [ADMIN],
    clock: () => (real ? new Date() : state.now),
    ...(options.enqueue ? { enqueue: options.enqueue } : {}),
    ...(options.deliver ? { deliver: options.deliver } : {}),
    ...(options.admit ? { admit: options.admit } : {}),
  });
  let seq = 0;
  return {
    storage,
    db: storage.db,
    core,
    metrics,
    get now() {
      return real ? new Date() : state.now;
    },
    set now(value: Date) {
      state.now = value;
    },
    async run(text, user = ADMIN) {
      const ref = (user.includes(':') ? user : userRef('shell', user.replace(/^@/, ''))) as UserRef;
      const reply = await core.runCommand({
        deliveryKey: `test-${++seq}`,
        user: ref,
        channel: channelRef('shell', '#general'),
        text,
      });
      return { ...reply, text: renderPlainText(reply.message) };
    },
    close: () => (options.storage ? Promise.resolve() : storage.close()),
  };
}

/** Row counts of every table: "changes nothing" means these are equal before and after. */
export async function tableCounts(db: Database): Promise<Record<string, number>> {
  const tables = {
    organisations: schema.organisations,
    orgInboxes: schema.orgInboxes,
    people: schema.people,
    platformIdentities: schema.platformIdentities,
    contacts: schema.contacts,
    auditLog: schema.auditLog,
    incidents: schema.incidents,
    incidentMembers: schema.incidentMembers,
    incidentTimeline: schema.incidentTimeline,
    incidentChannels: schema.incidentChannels,
    deliveries: schema.deliveries,
    assistRequests: schema.assistRequests,
    alerts: schema.alerts,
    routings: schema.routings,
    routingCards: schema.routingCards,
    scheduledItems: schema.scheduledItems,
  };
  const out: Record<string, number> = {};
  for (const [name, table] of Object.entries(tables)) {
    const [row] = await db.select({ n: count() }).from(table);
    out[name] = row?.n ?? 0;
  }
  return out;
}
