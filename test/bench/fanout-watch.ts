import { setTimeout as sleep } from 'node:timers/promises';
import type { FanoutWorld, Recipient } from './fanout-world.js';

const DISCORD_POST = 'POST /channels/{channel_id}/messages';
const discordChannelOf = (path: string) => /^\/channels\/(\d+)/.exec(path)?.[1] ?? null;

/** A 429 one of the fakes answered. */
export interface RateLimited {
  platform: 'slack' | 'discord';
  /** The channel the refused call was about, when it named one. */
  channel: string | null;
  /** `chat.postMessage`, `POST /channels/{channel_id}/messages`, … */
  call: string;
  at: number;
  /**
   * Discord: the gaps (ms) between the last dozen requests the fake admitted before this one. The
   * fake counts fixed one-second windows of 50, so gaps well under the pacer's 21 ms show a bunch.
   */
  gapsBeforeMs?: number[];
  /**
   * Discord: the fake's global window replayed from its call log (same rule, same clock): how
   * long before this request it began and how many requests it had admitted. 50: a global 429.
   */
  window?: { startedMsBefore: number; admitted: number };
}

/**
 * Watches the fakes' call logs, from the moment it is made, for posts of one alert's card (found
 * by a token in the alert's text) and for every 429 answered. Reads only calls it has not seen,
 * so it can be polled every few milliseconds while the fakes serve Concord on the same thread.
 */
export class CardWatch {
  /** Per channel id, when each accepted post of the card arrived at the fake. */
  readonly arrivals = new Map<string, number[]>();
  readonly limited: RateLimited[] = [];
  private slackSeen: number;
  private discordSeen: number;
  private window = { start: Number.NEGATIVE_INFINITY, admitted: 0 };

  constructor(
    private readonly world: FanoutWorld,
    readonly token: string,
    /** Channels forced into 429: the fake refuses them before its global count. */
    private readonly forced: ReadonlySet<string> = new Set(),
  ) {
    this.slackSeen = world.slack.calls.length;
    this.discordSeen = world.discord.calls.length;
  }

  poll(): void {
    const { slack, discord } = this.world;
    for (; this.slackSeen < slack.calls.length; this.slackSeen++) {
      const call = slack.calls[this.slackSeen];
      if (!call) break;
      const channel = typeof call.params.channel === 'string' ? call.params.channel : null;
      if (call.status === 429) {
        this.limited.push({ platform: 'slack', channel, call: call.method, at: call.at });
      } else if (
        call.method === 'chat.postMessage' &&
        call.status === 200 &&
        !call.error &&
        channel &&
        JSON.stringify(call.params).includes(this.token)
      ) {
        this.arrived(channel, call.at);
      }
    }
    for (; this.discordSeen < discord.calls.length; this.discordSeen++) {
      const call = discord.calls[this.discordSeen];
      // A call is logged before it is answered; come back for it once it has been.
      if (!call || call.status === 0) break;
      const channel = discordChannelOf(call.path);
      const name = call.route ?? `${call.method} ${call.path}`;
      const window = this.countGlobally(call, channel);
      if (call.status === 429) {
        const admitted = discord.calls
          .slice(Math.max(0, this.discordSeen - 40), this.discordSeen)
          .filter((c) => c.status !== 429 && c.status !== 0)
          .map((c) => c.at)
          .slice(-13);
        const gapsBeforeMs = admitted.slice(1).map((at, i) => at - (admitted[i] as number));
        this.limited.push({
          platform: 'discord',
          channel,
          call: name,
          at: call.at,
          gapsBeforeMs,
          ...(window ? { window } : {}),
        });
      } else if (
        call.route === DISCORD_POST &&
        call.status === 200 &&
        channel &&
        JSON.stringify(call.body).includes(this.token)
      ) {
        this.arrived(channel, call.at);
      }
    }
  }

  /**
   * The fake Discord's global rule (rate-limits.ts), replayed: a window opens at the first
   * counted request a second or more after the last one opened, and admits 50. Interaction
   * routes and forced channels are refused or passed before it.
   */
  private countGlobally(
    call: { route: string | null; status: number; at: number },
    channel: string | null,
  ) {
    if (call.route?.includes('/interactions/') || call.route?.includes('/webhooks/')) return;
    if (call.status === 429 && channel !== null && this.forced.has(channel)) return;
    if (call.at - this.window.start >= 1000) this.window = { start: call.at, admitted: 0 };
    const seen = { startedMsBefore: call.at - this.window.start, admitted: this.window.admitted };
    if (call.status !== 429) this.window.admitted++;
    return seen;
  }

  private arrived(channel: string, at: number) {
    this.arrivals.set(channel, [...(this.arrivals.get(channel) ?? []), at]);
  }

  /** How many of `recipients` have the card. */
  delivered(recipients: readonly Recipient[]): number {
    this.poll();
    return recipients.filter((r) => this.arrivals.has(r.channel)).length;
  }

  /** The latest first arrival among `recipients`; undefined while one of them has none. */
  lastFirstArrival(recipients: readonly Recipient[]): number | undefined {
    this.poll();
    let last = Number.NEGATIVE_INFINITY;
    for (const r of recipients) {
      const first = this.arrivals.get(r.channel)?.[0];
      if (first === undefined) return undefined;
      last = Math.max(last, first);
    }
    return recipients.length > 0 ? last : undefined;
  }

  /** Polls until every one of `recipients` has the card, or `timeoutMs` passes. */
  async waitAll(recipients: readonly Recipient[], timeoutMs: number): Promise<boolean> {
    return until(() => this.delivered(recipients) === recipients.length, timeoutMs);
  }
}

/** Polls `check` every 5 ms until it holds (true) or `timeoutMs` passes (false). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 5,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/**
 * The cards each recipient's channel holds in the end, counted in the fakes' stored messages
 * (not in the call log): what a person would see. Lost: channels without one; doubled: the
 * copies beyond the first.
 */
export function tally(world: FanoutWorld, token: string, recipients: readonly Recipient[]) {
  const discordCounts = new Map<string, number>();
  for (const m of world.discord.state.messages.values()) {
    if (JSON.stringify(m).includes(token))
      discordCounts.set(m.channel_id, (discordCounts.get(m.channel_id) ?? 0) + 1);
  }
  const count = (r: Recipient) =>
    r.platform === 'slack'
      ? world.slack.messagesIn(r.channel).filter((m) => JSON.stringify(m).includes(token)).length
      : (discordCounts.get(r.channel) ?? 0);
  const missing: string[] = [];
  const doubledAt: string[] = [];
  let doubled = 0;
  for (const r of recipients) {
    const n = count(r);
    if (n === 0) missing.push(`${r.org} (${r.platform})`);
    if (n > 1) {
      doubled += n - 1;
      doubledAt.push(`${r.org} (${r.platform}) ×${n}`);
    }
  }
  return { lost: missing.length, doubled, missing, doubledAt };
}

const STALL_TICK_MS = 5;
const STALL_REPORT_MS = 25;

/**
 * Stalls of this thread's event loop (where the fakes answer), with when they ended: a stall
 * right before a 429 means the fake itself bunched the requests it then counted.
 */
export class StallLog {
  readonly stalls: { endedAt: number; ms: number }[] = [];
  private last = Date.now();
  private readonly timer = setInterval(() => {
    const now = Date.now();
    const gap = now - this.last - STALL_TICK_MS;
    if (gap >= STALL_REPORT_MS) this.stalls.push({ endedAt: now, ms: gap });
    this.last = now;
  }, STALL_TICK_MS);

  stop(): { endedAt: number; ms: number }[] {
    clearInterval(this.timer);
    return this.stalls;
  }
}
