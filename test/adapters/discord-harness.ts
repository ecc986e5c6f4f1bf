import { setTimeout as sleep } from 'node:timers/promises';
import { type DiscordAdapter, startDiscord } from '../../adapters/discord/index.js';
import type {
  ChatInbound,
  CommandReply,
  InboundAction,
  InboundCommand,
  InboundMessage,
} from '../../src/chat/port.js';
import { concordCommands } from '../../src/commands/registry.js';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import {
  type FakeDiscord,
  type FakeDiscordOptions,
  startFakeDiscord,
} from '../fakes/discord/index.js';

/**
 * What the core would be, reduced to a recorder with canned answers: each test sets the replies
 * (and a delay, to be slow on purpose) and reads back what the adapter delivered.
 */
export class RecordingInbound implements ChatInbound {
  readonly commands: InboundCommand[] = [];
  readonly actions: InboundAction[] = [];
  readonly messages: InboundMessage[] = [];
  /** Milliseconds each command and action takes. */
  delayMs = 0;
  commandReply: (c: InboundCommand) => CommandReply | null = () => ({
    visibility: 'private',
    message: { title: 'Done' },
  });
  actionReply: (a: InboundAction) => CommandReply | null = () => null;

  async command(command: InboundCommand): Promise<CommandReply | null> {
    this.commands.push(command);
    if (this.delayMs) await sleep(this.delayMs);
    return this.commandReply(command);
  }

  async action(action: InboundAction): Promise<CommandReply | null> {
    this.actions.push(action);
    if (this.delayMs) await sleep(this.delayMs);
    return this.actionReply(action);
  }

  async message(message: InboundMessage): Promise<void> {
    this.messages.push(message);
  }
}

/** Everything a Discord adapter test needs. */
export interface Harness {
  fake: FakeDiscord;
  adapter: DiscordAdapter;
  inbound: RecordingInbound;
  http: HttpServer;
  /** The signed interactions endpoint (mounted when `publicKey` was asked for). */
  interactionsUrl: string;
  close(): Promise<void>;
}

/** Variations on the default set-up. */
export interface HarnessOptions {
  /** Mount the signed HTTP endpoint with the fake's public key. */
  publicKey?: boolean;
  restTimeoutMs?: number;
  fake?: FakeDiscordOptions;
}

/** A fake Discord, an HTTP server on a free port, and the real adapter started against both. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await startFakeDiscord(options.fake);
  const logger = createLogger('silent');
  const http = createHttpServer(logger);
  const port = await http.listen(0, '127.0.0.1');
  const inbound = new RecordingInbound();
  try {
    const adapter = await startDiscord({
      botToken: fake.botToken,
      applicationId: fake.applicationId,
      guildId: fake.guildId,
      apiUrl: fake.apiUrl,
      ...(options.publicKey ? { publicKey: fake.publicKey } : {}),
      ...(options.restTimeoutMs ? { restTimeoutMs: options.restTimeoutMs } : {}),
      http,
      inbound,
      registry: concordCommands(),
      logger,
    });
    return {
      fake,
      adapter,
      inbound,
      http,
      interactionsUrl: `http://127.0.0.1:${port}/discord/interactions`,
      close: async () => {
        await adapter.close();
        await http.close();
        await fake.close();
      },
    };
  } catch (error) {
    await http.close();
    await fake.close();
    throw error;
  }
}
