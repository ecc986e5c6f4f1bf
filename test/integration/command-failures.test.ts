import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatHub } from '../../src/chat/hub.js';
import { channelRef, userRef } from '../../src/chat/refs.js';
import { createCommandRunner } from '../../src/commands/dispatch.js';
import { concordCommands } from '../../src/commands/registry.js';
import { createRegistry } from '../../src/commands/spec.js';
import { createCore } from '../../src/core.js';
import type { Storage } from '../../src/db/client.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { itWithPostgresServer, openTestStorage } from '../support/storage.js';

const inbound = (text: string) => ({
  deliveryKey: 'k',
  user: userRef('shell', 'operator'),
  channel: channelRef('shell', '#general'),
  text,
});

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

let storage: Storage;
beforeAll(async () => {
  storage = await openTestStorage();
});
afterAll(() => storage.close());

describe('when something other than the input is wrong', () => {
  it('a bug answers with an apology and a reference that the log carries too', async () => {
    const { logger, lines } = capturingLogger();
    const registry = createRegistry([
      {
        name: 'boom',
        summary: 'fails',
        subcommands: [
          {
            name: 'now',
            summary: 'throws a TypeError',
            options: [],
            permission: { kind: 'anyone' },
            handler: async (ctx) => {
              ctx.logger.info('about to fail');
              throw new TypeError('cannot read properties of undefined (secret detail)');
            },
          },
        ],
      },
    ]);
    const run = createCommandRunner({
      db: storage.db,
      registry,
      chat: new ChatHub(),
      logger,
      metrics: createMetrics(),
      bootstrapAdmins: new Set(),
    });
    const reply = await run(inbound('/boom now'));
    const ref = /reference ([0-9a-f]{8})/.exec(reply.message.title ?? '')?.[1];
    expect(reply.message.title).toMatch(
      /^Sorry, that went wrong on Concord's side \(reference [0-9a-f]{8}\); nothing was changed$/,
    );
    expect(JSON.stringify(reply)).not.toContain('secret detail');
    expect(lines.find((l) => l.msg === 'command failed')).toMatchObject({
      correlationId: ref,
      command: 'boom now',
    });
    // Everything the command logged on its way carries the same id.
    expect(lines.find((l) => l.msg === 'about to fail')).toMatchObject({
      correlationId: ref,
      command: 'boom now',
    });
  });

  itWithPostgresServer(
    'a database that went away answers "unavailable, try again", not a stack trace',
    async () => {
      const gone = await openTestStorage();
      const run = createCommandRunner({
        db: gone.db,
        registry: concordCommands(),
        chat: new ChatHub(),
        logger: createLogger('silent'),
        metrics: createMetrics(),
        bootstrapAdmins: new Set(['shell:operator']),
      });
      await gone.close();
      const reply = await run(inbound('/org add EST name:"Estonia" kind:delegation'));
      expect(reply.message.title).toBe(
        '⚠ Concord cannot reach its database right now; nothing was changed, try again in a minute',
      );
    },
  );

  itWithPostgresServer(
    'a command arriving from a platform while the database is away gets the same answer',
    async () => {
      const gone = await openTestStorage();
      const core = createCore({
        db: gone.db,
        logger: createLogger('silent'),
        metrics: createMetrics(),
        admins: ['slack:U1'],
      });
      await gone.close();
      const reply = await core.inbound.command({
        deliveryKey: 'slack:cmd:T1',
        user: userRef('slack', 'U1'),
        channel: channelRef('slack', 'C1'),
        text: '/incident open Outage',
      });
      expect(reply?.message.title).toBe(
        '⚠ Concord cannot reach its database right now; nothing was changed, try again in a minute',
      );
    },
  );
});
