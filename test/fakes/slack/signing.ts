import { createHmac } from 'node:crypto';

/** Slack gives up on an app that has not answered within 3 seconds and shows the user an error. */
export const ACK_DEADLINE_MS = 3000;

/** How the fake signs (or mis-signs) one request it sends to the app. */
export interface DeliveryOptions {
  /** Sign with a secret that is not the app's. */
  forgeSignature?: boolean;
  /** Send no `X-Slack-Signature` at all. */
  omitSignature?: boolean;
  /** Shift `X-Slack-Request-Timestamp` from now, in seconds (`-360`: six minutes stale). */
  timestampOffsetSec?: number;
  /** Mark the request as Slack's n-th retry (`X-Slack-Retry-Num`). */
  retryNum?: number;
  retryReason?: string;
}

/** Exactly what went over the wire, so a test can replay it byte for byte. */
export interface SentRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface DeliveryResult {
  /** The app's HTTP status; 0 when Slack gave up waiting (see `timedOut`). */
  status: number;
  /** Milliseconds from sending to the app's answer (or to giving up). */
  ackMs: number;
  body: string;
  /** The app did not answer within 3 s: Slack would show the user an error. */
  timedOut: boolean;
  request: SentRequest;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret, as Slack signs. */
export function signSlackRequest(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

export function buildRequest(
  url: string,
  secret: string,
  body: string,
  contentType: 'application/json' | 'application/x-www-form-urlencoded',
  options: DeliveryOptions = {},
): SentRequest {
  const timestamp = Math.floor(Date.now() / 1000) + (options.timestampOffsetSec ?? 0);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestamp),
  };
  if (!options.omitSignature) {
    const key = options.forgeSignature ? `not-${secret}` : secret;
    headers['x-slack-signature'] = signSlackRequest(key, timestamp, body);
  }
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  return { url, headers, body };
}

/** Sends one request as Slack does: it waits 3 seconds for the answer and no longer. */
export async function deliver(request: SentRequest): Promise<DeliveryResult> {
  const started = performance.now();
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(ACK_DEADLINE_MS),
    });
    const body = await response.text();
    const ackMs = performance.now() - started;
    return { status: response.status, ackMs, body, timedOut: ackMs > ACK_DEADLINE_MS, request };
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      return { status: 0, ackMs: performance.now() - started, body: '', timedOut: true, request };
    }
    throw error;
  }
}
