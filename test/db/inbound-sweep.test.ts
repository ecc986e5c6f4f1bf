import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/db/client.js';
import { inboundDeliveries, scheduledItems } from '../../src/db/schema/index.js';
import { claimDelivery } from '../../src/domain/inbound/claim-delivery.js';
import {
  ensureInboundSweep,
  INBOUND_SWEEP,
  sweepInboundKeys,
} from '../../src/domain/inbound/sweep-keys.js';
import { fireDirectly } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

// Inbound delivery keys are kept as long as a platform may redeliver, then swept daily: the
// table holds a couple of days of keys, not every command ever sent.

let storage: Storage;
beforeEach(async () => {
  storage = await openTestStorage();
});
afterEach(async () => {
  await storage.close();
});

const DAY_MS = 86_400_000;

describe('the inbound key sweep', () => {
  it('forgets keys older than two days, keeps the rest, and comes back tomorrow', async () => {
    const now = new Date('2026-12-02T12:00:00Z');
    await storage.db.insert(inboundDeliveries).values([
      { key: 'slack:cmd:old', receivedAt: new Date(now.getTime() - 3 * DAY_MS) },
      { key: 'slack:cmd:edge', receivedAt: new Date(now.getTime() - 2 * DAY_MS + 1000) },
      { key: 'discord:int:new', receivedAt: new Date(now.getTime() - 60_000) },
    ]);
    await ensureInboundSweep(storage.db, now);
    await ensureInboundSweep(storage.db, now); // once only
    const items = await storage.db.select().from(scheduledItems);
    expect(items.filter((i) => i.kind === INBOUND_SWEEP)).toHaveLength(1);
    const item = items[0];
    if (!item) throw new Error('no sweep scheduled');

    const result = await fireDirectly(storage.db, sweepInboundKeys, item, now);
    expect(result).toEqual({ again: new Date(now.getTime() + DAY_MS) });
    const kept = await storage.db.select({ key: inboundDeliveries.key }).from(inboundDeliveries);
    expect(kept.map((k) => k.key).sort()).toEqual(['discord:int:new', 'slack:cmd:edge']);
    // A redelivery within the window is still a no-op; a forgotten key could be claimed again.
    expect(await claimDelivery(storage.db, 'discord:int:new')).toBe(false);
    expect(await claimDelivery(storage.db, 'slack:cmd:old')).toBe(true);
  });
});
