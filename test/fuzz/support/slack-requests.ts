import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../../src/http/screen.js';
import { signSlackRequest } from '../../fakes/slack/index.js';
import { hostileToken } from './hostile.js';
import { headerValue, type RawRequest } from './http.js';
import { printable, rarely } from './mutate.js';
import {
  commandBody,
  deepBody,
  eventBody,
  FORM,
  garbageBody,
  interactionBody,
  JSON_TYPE,
  type SlackWorld,
} from './slack-bodies.js';

export type { SlackWorld };

/**
 * Requests at `POST /slack/events`: slash-command forms, interactivity `payload=` forms and
 * Events API JSON, as Slack sends them and mutated; garbage bodies; wrong and missing content
 * types; bodies past the 1 MiB limit; and every way of getting the signature wrong. A case is
 * data until `toRequest` signs it at send time (Slack's timestamps are checked against now).
 *
 * Who speaks: an outsider (a Slack user in no directory) says anything; the directory member
 * says only what the parser refuses, what only reads, what their role forbids, or what names
 * nothing that exists (`poisonedLine`), and their command text and user id are never mutated,
 * so a mutation cannot turn their refused command into a valid one that writes. Buttons are
 * pressed by outsiders, and by people who may answer a routing only with actions that are none
 * of the core's; messages come from anyone, in channels that are no incident's.
 */

type Auth =
  | { kind: 'valid' | 'none' | 'timestamp-only' | 'forged' | 'tampered' | 'upper' | 'v1' }
  | { kind: 'skewed'; seconds: number }
  | { kind: 'bad-timestamp'; timestamp: string }
  | { kind: 'garbage'; signature: string };

export interface SlackCase {
  /** What the case is, for the summary: `command:outsider`, `event:message`, `garbage`. */
  label: string;
  contentType: string | undefined;
  /** `FZSEQFZ` becomes a number unique to the send; `FZURLFZ` a fresh response_url. */
  body: Uint8Array;
  auth: Auth;
  retry?: string;
  chunked: boolean;
  /** Pad the body past this many bytes (a body over the limit). */
  hugeBytes?: number;
  /** A duplicate signature header, or a header in odd case. */
  headerTwist?: 'duplicate-signature' | 'upper-names';
}

const contentTypeFor = (natural: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant<string | undefined>(natural) },
    fc.constantFrom<string | undefined>(
      undefined,
      FORM,
      JSON_TYPE,
      'text/plain',
      `${FORM}; charset=UTF-8`,
      `${JSON_TYPE}; charset=utf-8`,
      'Application/X-WWW-Form-Urlencoded',
      'multipart/form-data; boundary=fuzz',
      '',
      '*/*',
    ),
    hostileToken.map((t) => headerValue(t)),
  );

const FORM_TYPES = contentTypeFor(FORM);
const JSON_TYPES = contentTypeFor(JSON_TYPE);

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ kind: 'valid' } as Auth) },
  {
    weight: 12,
    arbitrary: fc.constantFrom<Auth>(
      { kind: 'none' },
      { kind: 'timestamp-only' },
      { kind: 'forged' },
      { kind: 'tampered' },
      { kind: 'upper' },
      { kind: 'v1' },
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      // Past the five-minute window by more than a batch under load can take to be checked.
      .oneof(fc.integer({ min: 330, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -330 }))
      .map((seconds) => ({ kind: 'skewed', seconds }) as Auth),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom('', ' ', '1.5', '1e9', '0x10', '-0', 'NaN', '99999999999999999999', '١٢٣'),
        hostileToken,
      )
      .map((timestamp) => ({ kind: 'bad-timestamp', timestamp: headerValue(timestamp) }) as Auth),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.stringMatching(/^v0=[0-9a-f]{64}$/),
        fc.constantFrom('v0=', 'v0', '=', `v0=${'g'.repeat(64)}`),
        hostileToken,
      )
      .map((signature) => ({ kind: 'garbage', signature: headerValue(signature) }) as Auth),
  },
);

/** One request at /slack/events, as data. */
export const slackCase = (w: SlackWorld): fc.Arbitrary<SlackCase> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 50, arbitrary: commandBody(w).map((b) => ({ ...b, natural: FORM })) },
        { weight: 30, arbitrary: interactionBody(w).map((b) => ({ ...b, natural: FORM })) },
        { weight: 40, arbitrary: eventBody(w).map((b) => ({ ...b, natural: JSON_TYPE })) },
        { weight: 2, arbitrary: deepBody.map((b) => ({ ...b, natural: JSON_TYPE })) },
        { weight: 20, arbitrary: garbageBody.map((b) => ({ ...b, natural: FORM })) },
      ),
      auth,
      rarely(8, fc.constantFrom('1', '2', '3', '0', '-1', 'x')),
      fc.boolean(),
      rarely(200, fc.integer({ min: 1, max: 64 * 1024 })),
      rarely(20, fc.constantFrom('duplicate-signature' as const, 'upper-names' as const)),
    )
    .chain(([b, a, retry, chunked, huge, twist]) =>
      (b.natural === FORM ? FORM_TYPES : JSON_TYPES).map((contentType) =>
        printable<SlackCase>({
          label: b.label,
          contentType,
          body: b.body,
          auth: a,
          ...(retry !== undefined ? { retry } : {}),
          chunked,
          ...(huge !== undefined ? { hugeBytes: MAX_BODY_BYTES + huge } : {}),
          ...(twist ? { headerTwist: twist } : {}),
        }),
      ),
    );

/** What the case must be answered with, from Slack's rules alone. */
export function expectedStatuses(c: SlackCase, body: Uint8Array): number[] {
  if (c.hugeBytes !== undefined) return [413];
  const text = Buffer.from(body).toString('utf8');
  const form = (c.contentType ?? '').startsWith(FORM);
  // Slack's certificate check carries no data and needs no signature.
  if (form && new URLSearchParams(text).get('ssl_check') === '1') return [200];
  const signed = c.auth.kind === 'valid' && c.headerTwist !== 'duplicate-signature';
  return signed ? [200, 400] : [401];
}

/** Signs (or mis-signs) a case now, as the request to send. */
export function toRequest(
  c: SlackCase,
  secret: string,
  fill: (body: string) => string,
): { request: RawRequest; body: Uint8Array } {
  let body: Uint8Array = Buffer.from(fill(Buffer.from(c.body).toString('latin1')), 'latin1');
  if (c.hugeBytes !== undefined) {
    body = Buffer.concat([body, Buffer.alloc(Math.max(0, c.hugeBytes - body.length), 0x61)]);
  }
  const now = Math.floor(Date.now() / 1000);
  const raw = Buffer.from(body).toString('utf8');
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const sign = (timestamp: number, text = raw, key = secret) =>
    signSlackRequest(key, timestamp, text);
  switch (c.auth.kind) {
    case 'valid':
      headers['x-slack-request-timestamp'] = String(now);
      headers['x-slack-signature'] = sign(now);
      break;
    case 'none':
      break;
    case 'timestamp-only':
      headers['x-slack-request-timestamp'] = String(now);
      break;
    case 'forged':
      headers['x-slack-request-timestamp'] = String(now);
      headers['x-slack-signature'] = sign(now, raw, `not-${secret}`);
      break;
    case 'tampered':
      headers['x-slack-request-timestamp'] = String(now);
      headers['x-slack-signature'] = sign(now, `${raw} `);
      break;
    case 'upper':
      headers['x-slack-request-timestamp'] = String(now);
      headers['x-slack-signature'] = sign(now).toUpperCase();
      break;
    case 'v1':
      headers['x-slack-request-timestamp'] = String(now);
      headers['x-slack-signature'] = sign(now).replace(/^v0=/, 'v1=');
      break;
    case 'skewed':
      headers['x-slack-request-timestamp'] = String(now + c.auth.seconds);
      headers['x-slack-signature'] = sign(now + c.auth.seconds);
      break;
    case 'bad-timestamp':
      headers['x-slack-request-timestamp'] = c.auth.timestamp;
      headers['x-slack-signature'] = `v0=${'0'.repeat(64)}`;
      break;
    case 'garbage':
      headers['x-slack-request-timestamp'] = String(now);
      headers['x-slack-signature'] = c.auth.signature;
      break;
  }
  if (c.retry !== undefined) {
    headers['x-slack-retry-num'] = c.retry;
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  let sent: Record<string, string> = headers;
  if (c.headerTwist === 'upper-names') {
    sent = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
  }
  const request: RawRequest = {
    method: 'POST',
    path: '/slack/events',
    headers: sent,
    body,
    chunked: c.chunked,
  };
  if (c.headerTwist === 'duplicate-signature') {
    // Two signature headers: a forged one first. Node joins them into one value, or the
    // screen takes the first: either way, not a valid signature.
    (request.headers as Record<string, unknown>)['x-slack-signature'] = [
      sign(now, raw, `not-${secret}`),
      headers['x-slack-signature'] ?? '',
    ];
  }
  return { request, body };
}
