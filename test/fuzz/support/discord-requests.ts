import { type KeyObject, sign } from 'node:crypto';
import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../../src/http/screen.js';
import {
  buttonBody,
  commandBody,
  type DiscordWorld,
  falseButtonBody,
  garbageBody,
  otherBody,
} from './discord-bodies.js';
import { hostileToken } from './hostile.js';
import { headerValue, type RawRequest } from './http.js';
import { printable, rarely } from './mutate.js';

export type { DiscordWorld };

/**
 * Requests at `POST /discord/interactions`: slash commands (data.options trees built from the
 * registry's specs and from mutated command lines), button presses on request and alert cards,
 * PINGs, interaction types Concord does not take, garbage, bodies past the limit, and every way
 * of getting the Ed25519 signature wrong. Signed at send time with the application's key.
 *
 * Who speaks: as on Slack, an outsider says anything and presses any button; the directory
 * member only says what reaches the core refused, read-only or forbidden, judged on the command
 * line the adapter will rebuild from the (mutated) options, so a mutation cannot slip the
 * member a command that writes; people who may answer a routing press it only with actions that
 * are none of the core's.
 */

type Auth =
  | { kind: 'valid' | 'upper' | 'none' | 'forged' | 'tampered' | 'ts-only' | 'replay' }
  | { kind: 'skewed'; seconds: number }
  | { kind: 'bad-timestamp'; timestamp: string }
  | { kind: 'garbage'; signature: string };

export interface DiscordCase {
  label: string;
  /** `FZSEQFZ` becomes a number unique to the send. */
  body: Uint8Array;
  auth: Auth;
  contentType: string | undefined;
  chunked: boolean;
  hugeBytes?: number;
  /** Who spoke, when it is the member: their line must be judged after mutation. */
  member?: boolean;
}

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ kind: 'valid' } as Auth) },
  {
    weight: 12,
    arbitrary: fc.constantFrom<Auth>(
      { kind: 'upper' },
      { kind: 'none' },
      { kind: 'forged' },
      { kind: 'tampered' },
      { kind: 'ts-only' },
      { kind: 'replay' },
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
        fc.constantFrom('', ' 1', '1.5', '1e9', '-1', '0x10', '9999999999999', '١٢٣'),
        hostileToken,
      )
      .map((timestamp) => ({ kind: 'bad-timestamp', timestamp: headerValue(timestamp) }) as Auth),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.stringMatching(/^[0-9a-f]{128}$/),
        fc.stringMatching(/^[0-9a-f]{126}$/),
        fc.constantFrom('', 'zz'.repeat(64), ` ${'0'.repeat(128)}`),
        hostileToken,
      )
      .map((signature) => ({ kind: 'garbage', signature: headerValue(signature) }) as Auth),
  },
);

export const discordCase = (w: DiscordWorld): fc.Arbitrary<DiscordCase> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 6, arbitrary: commandBody(w) },
        { weight: 3, arbitrary: buttonBody(w) },
        { weight: 1, arbitrary: falseButtonBody(w) },
        { weight: 2, arbitrary: otherBody(w) },
        { weight: 2, arbitrary: garbageBody },
      ),
      auth,
      fc.oneof(
        { weight: 10, arbitrary: fc.constant<string | undefined>('application/json') },
        fc.constantFrom<string | undefined>(
          undefined,
          'text/plain',
          'application/x-www-form-urlencoded',
        ),
      ),
      fc.boolean(),
      rarely(200, fc.integer({ min: 1, max: 64 * 1024 })),
    )
    .map(([b, a, contentType, chunked, huge]) =>
      printable<DiscordCase>({
        label: b.label,
        body: b.body,
        ...('member' in b && b.member ? { member: true } : {}),
        auth: a,
        contentType,
        chunked,
        ...(huge !== undefined ? { hugeBytes: MAX_BODY_BYTES + huge } : {}),
      }),
    );

/** What the case must be answered with; `replayed` when it went out as an earlier request again. */
export function expectedStatuses(c: DiscordCase, replayed: boolean): number[] {
  if (replayed) return [401];
  if (c.hugeBytes !== undefined) return [413];
  // A replay with nothing earlier to repeat goes out as a valid request of its own.
  const signed = c.auth.kind === 'valid' || c.auth.kind === 'upper' || c.auth.kind === 'replay';
  return signed ? [200, 400] : [401];
}

/** The signing keys: the application's (its public half configured in the stack), a stranger's. */
export interface Keys {
  application: KeyObject;
  stranger: KeyObject;
}

/**
 * Signs (or mis-signs) a case now. `replay` sends an earlier valid request's exact headers and
 * body a second time: `previous` is that request, or undefined before the first.
 */
export function toRequest(
  c: DiscordCase,
  keys: Keys,
  fill: (body: string) => string,
  previous: RawRequest | undefined,
): RawRequest {
  let body: Uint8Array = Buffer.from(fill(Buffer.from(c.body).toString('latin1')), 'latin1');
  if (c.hugeBytes !== undefined)
    body = Buffer.concat([body, Buffer.alloc(Math.max(0, c.hugeBytes - body.length), 0x20)]);
  const now = String(Math.floor(Date.now() / 1000));
  const signWith = (key: KeyObject, timestamp: string, bytes: Uint8Array) =>
    sign(null, Buffer.concat([Buffer.from(timestamp), bytes]), key).toString('hex');
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const a = c.auth;
  if (a.kind === 'replay' && previous) return previous;
  switch (a.kind) {
    case 'valid':
    case 'replay':
      headers['x-signature-timestamp'] = now;
      headers['x-signature-ed25519'] = signWith(keys.application, now, body);
      break;
    case 'upper':
      headers['x-signature-timestamp'] = now;
      headers['x-signature-ed25519'] = signWith(keys.application, now, body).toUpperCase();
      break;
    case 'none':
      break;
    case 'ts-only':
      headers['x-signature-timestamp'] = now;
      break;
    case 'forged':
      headers['x-signature-timestamp'] = now;
      headers['x-signature-ed25519'] = signWith(keys.stranger, now, body);
      break;
    case 'tampered':
      headers['x-signature-timestamp'] = now;
      headers['x-signature-ed25519'] = signWith(
        keys.application,
        now,
        Buffer.concat([body, Buffer.from(' ')]),
      );
      break;
    case 'skewed': {
      const at = String(Number(now) + a.seconds);
      headers['x-signature-timestamp'] = at;
      headers['x-signature-ed25519'] = signWith(keys.application, at, body);
      break;
    }
    case 'bad-timestamp':
      headers['x-signature-timestamp'] = a.timestamp;
      headers['x-signature-ed25519'] = signWith(keys.application, a.timestamp, body);
      break;
    case 'garbage':
      headers['x-signature-timestamp'] = now;
      headers['x-signature-ed25519'] = a.signature;
      break;
  }
  return {
    method: 'POST',
    path: '/discord/interactions',
    headers,
    body,
    chunked: c.chunked,
  };
}
