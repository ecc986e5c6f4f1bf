import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from '../../src/http/screen.js';
import { type HttpServer, readLimited, sendJson } from '../../src/http/server.js';
import type { Logger } from '../../src/log.js';
import { InteractionRunner } from './interactions.js';

/**
 * POST /discord/interactions: Discord's signed HTTP interactions. Each request is checked before
 * anything else: Ed25519 signature over `timestamp + body` with the application's public key, a
 * timestamp within five minutes either way, and no (timestamp, signature) pair twice, so a
 * captured request cannot be replayed. PING answers PONG; commands and buttons are answered at
 * once with a deferred response, then run, with the result edited in through the webhook.
 */

/** The path Discord's Developer Portal is given as the Interactions Endpoint URL. */
export const INTERACTIONS_PATH = '/discord/interactions';
const WINDOW_S = 5 * 60;
// DER header of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The application's public key (64 hex digits, from the Developer Portal) as a key object. */
export function publicKeyFromHex(hex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error('DISCORD_PUBLIC_KEY must be 64 hex digits');
  const der = Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** What the endpoint needs: where to mount, the key to verify with, and who runs interactions. */
export interface InteractionsEndpointOptions {
  http: HttpServer;
  publicKey: string;
  runner: InteractionRunner;
  logger: Logger;
  /** Clock in ms, for the timestamp window. */
  now: () => number;
  /** False once the adapter is closed: the endpoint then answers 503. */
  isOpen: () => boolean;
}

/** Mounts POST /discord/interactions on the shared HTTP server. */
export function mountInteractionsEndpoint(options: InteractionsEndpointOptions): void {
  const key = publicKeyFromHex(options.publicKey);
  /** `timestamp:signature` pairs already accepted, with their timestamps (s). */
  const accepted = new Map<string, number>();

  const unauthorized = (res: ServerResponse, why: string) => {
    options.logger.warn({ why }, 'discord interaction refused');
    sendJson(res, 401, { error: 'invalid request signature' });
  };

  options.http.route('POST', INTERACTIONS_PATH, async (req, res) => {
    if (!options.isOpen()) return sendJson(res, 503, { error: 'shutting down' });
    const body = await readLimited(req, MAX_BODY_BYTES);
    if (!body) {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, { error: 'body larger than 1 MiB' });
    }
    const signature = String(req.headers['x-signature-ed25519'] ?? '').toLowerCase();
    const timestamp = String(req.headers['x-signature-timestamp'] ?? '');
    if (!/^[0-9a-f]{128}$/.test(signature) || !/^\d{1,12}$/.test(timestamp))
      return unauthorized(res, 'missing or malformed signature headers');
    const nowS = options.now() / 1000;
    if (Math.abs(nowS - Number(timestamp)) > WINDOW_S)
      return unauthorized(res, 'timestamp outside the five-minute window');
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
    if (!verify(null, signed, key, Buffer.from(signature, 'hex')))
      return unauthorized(res, 'bad signature');
    const pair = `${timestamp}:${signature}`;
    if (accepted.has(pair)) return unauthorized(res, 'replayed request');
    for (const [old, at] of accepted) if (nowS - at > WINDOW_S) accepted.delete(old);
    accepted.set(pair, Number(timestamp));

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return sendJson(res, 400, { error: 'body is not JSON' });
    }
    if ((payload as { type?: unknown } | null)?.type === 1) return sendJson(res, 200, { type: 1 });

    const interaction = options.runner.accept(payload);
    if (!interaction) return sendJson(res, 400, { error: 'unsupported interaction' });
    if (interaction === 'duplicate') return sendJson(res, 200, InteractionRunner.ackFor(payload));
    // The answer goes out before any work; the work's result arrives by editing @original.
    res.once('finish', () => {
      interaction
        .run()
        .catch((err: unknown) =>
          options.logger.error({ err, interaction: interaction.id }, 'discord interaction failed'),
        );
    });
    sendJson(res, 200, interaction.ack);
  });
}
