import type { App, Receiver } from '@slack/bolt';
import { siblingModule } from '../../src/http/screen.js';
import type { HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/log.js';
import type { AcceptedSlackRequest, SlackScreenOptions } from './screen.js';

export interface SlackReceiverOptions extends SlackScreenOptions {
  http: HttpServer;
  logger: Logger;
  /** Where Slack posts commands, interactions and events. */
  path?: string;
}

const SCREEN_MODULE = siblingModule(import.meta.url, 'screen');

/**
 * A Bolt receiver behind Concord's HTTP server. Slack's requests are verified and answered by the
 * Slack screen (`screen.ts`) where the socket is: in the running process that is the front-door
 * thread, so Slack's 3-second deadline never waits on the bot's work. What the screen accepts
 * arrives here afterwards and goes to Bolt, whose `ack` has nothing left to do: every command,
 * button and event was acknowledged with an empty 200, and results follow through
 * `response_url` or posts.
 */
export class SlackReceiver implements Receiver {
  private app: App | undefined;
  private mounted = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: SlackReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {
    if (this.mounted) return;
    const { signingSecret, clockSkewMs, shared } = this.options;
    await this.options.http.screen(
      this.options.path ?? '/slack/events',
      {
        module: SCREEN_MODULE,
        options: {
          signingSecret,
          ...(clockSkewMs ? { clockSkewMs } : {}),
          ...(shared ? { shared } : {}),
        } satisfies SlackScreenOptions,
      },
      (accepted) => this.dispatch(accepted as AcceptedSlackRequest),
    );
    this.mounted = true;
  }

  /** Waits for the work of requests already acknowledged (the HTTP server closes first). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private dispatch({ body, retryNum }: AcceptedSlackRequest): void {
    const app = this.app;
    if (!app) {
      this.options.logger.error('slack request accepted before Bolt was ready: dropped');
      return;
    }
    const work = app
      .processEvent({ body, ack: async () => {}, ...(retryNum !== undefined ? { retryNum } : {}) })
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'slack listener failed');
      })
      .finally(() => {
        this.pending.delete(work);
      });
    this.pending.add(work);
  }
}
