import { ChatHub } from './chat/hub.js';
import { type CommandRunner, createCommandRunner } from './commands/dispatch.js';
import { concordCommands } from './commands/registry.js';
import type { CommandRegistry } from './commands/spec.js';
import type { Database } from './db/client.js';
import type { ItemRef } from './jobs/items.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface CoreOptions {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** `platform:userId` of bootstrap admins (CONCORD_ADMINS plus the shell's own speaker). */
  admins: Iterable<string>;
  clock?: () => Date;
  /** Enqueues scheduled items once a command has committed them (the Jobs scheduler). */
  enqueue?: (items: readonly ItemRef[]) => Promise<void>;
}

/** The platform-free heart of Concord: adapters register on `chat` and feed `runCommand`. */
export interface Core {
  readonly chat: ChatHub;
  readonly registry: CommandRegistry;
  readonly runCommand: CommandRunner;
}

export function createCore(options: CoreOptions): Core {
  const chat = new ChatHub();
  const registry = concordCommands();
  const runCommand = createCommandRunner({
    db: options.db,
    registry,
    chat,
    logger: options.logger,
    metrics: options.metrics,
    bootstrapAdmins: new Set(options.admins),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.enqueue ? { enqueue: options.enqueue } : {}),
  });
  return { chat, registry, runCommand };
}
