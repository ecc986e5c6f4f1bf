import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import {
  type SlackAdapter,
  type SlackAdapterOptions,
  startSlack,
} from '../../adapters/slack/index.js';
import type {
  ChatInbound,
  CommandReply,
  InboundAction,
  InboundCommand,
  InboundMessage,
} from '../../src/chat/port.js';
import { startFrontDoor } from '../../src/http/front-door.js';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import {
  type FakeSlack,
  type FakeSlackOptions,
  slackContractViolations,
  slackEnvelopeViolations,
  startFakeSlack,
} from '../fakes/slack/index.js';

/**
 * A core stand-in that records what the adapter hands it and answers with canned replies,
 * after `delayMs` when a test wants a slow core. It is not idempotent on purpose: deduplication
 * the adapter owes (Slack's retries) must show up as a single call here.
 */
export class RecordingInbound implements ChatInbound {
  readonly commands: InboundCommand[] = [];
  readonly actions: InboundAction[] = [];
  readonly messages: InboundMessage[] = [];
  delayMs = 0;
  commandReply: CommandReply | null = { message: { title: 'Done' }, visibility: 'private' };
  actionReply: CommandReply | null = null;
  /** Throws from `command` (a core bug), with a stack the user must never see. */
  failWith: Error | undefined;

  async command(command: InboundCommand): Promise<CommandReply | null> {
    this.commands.push(command);
    await sleep(this.delayMs);
    if (this.failWith) throw this.failWith;
    return this.commandReply;
  }
  async action(action: InboundAction): Promise<CommandReply | null> {
    this.actions.push(action);
    return this.actionReply;
  }
  async message(message: InboundMessage): Promise<void> {
    this.messages.push(message);
  }
}

export interface SlackHarness {
  fake: FakeSlack;
  http: HttpServer;
  adapter: SlackAdapter;
  inbound: RecordingInbound;
  /** Where the fake sends commands, buttons and events: our `/slack/events`. */
  url: string;
  /** Checks the contract and Slack's rules, then stops everything. */
  close(): Promise<void>;
}

/**
 * Fake Slack, our HttpServer on port 0 (in this thread, or the front door's thread), and the real
 * Bolt-based adapter between them.
 */
export async function startHarness(
  fakeOptions: FakeSlackOptions = {},
  adapterOptions: Partial<SlackAdapterOptions> = {},
  { frontDoor = false }: { frontDoor?: boolean } = {},
): Promise<SlackHarness> {
  const logger = createLogger(process.env.SLACK_TEST_LOG ?? 'silent');
  const fake = await startFakeSlack(fakeOptions);
  // The front door is the running process's server: the same routes, served from a thread.
  const http = frontDoor ? startFrontDoor({ logger }) : createHttpServer(logger);
  const inbound = new RecordingInbound();
  const port = await http.listen(0, '127.0.0.1');
  const adapter = await startSlack({
    botToken: fake.botToken,
    signingSecret: fake.signingSecret,
    apiUrl: fake.apiUrl,
    http,
    inbound,
    logger,
    ...adapterOptions,
  });
  return {
    fake,
    http,
    adapter,
    inbound,
    url: `http://127.0.0.1:${port}/slack/events`,
    async close() {
      await adapter.close();
      await http.close();
      await fake.close();
      expect(slackContractViolations(fake.calls)).toEqual([]);
      expect(slackEnvelopeViolations(fake.envelopes)).toEqual([]);
      expect(fake.responseViolations).toEqual([]);
    },
  };
}

/** A person in a channel with the bot, ready to type commands. */
export function seat(fake: FakeSlack, name = 'kadri') {
  const user = fake.addUser({ name });
  const channel = fake.addChannel({ name: `ops-${name}`, members: [fake.botUserId, user.id] });
  return { user, channel };
}
