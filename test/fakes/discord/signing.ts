import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/**
 * Discord signs every HTTP interaction with the application's Ed25519 key: the signature covers
 * `X-Signature-Timestamp` followed by the raw body. The fake holds a key pair of its own and a
 * second one to forge with.
 */
export class InteractionSigner {
  private readonly key = generateKeyPairSync('ed25519');
  private readonly forger = generateKeyPairSync('ed25519');
  /** The application's public key as the Developer Portal shows it: 64 hex digits. */
  readonly publicKey = rawPublicKey(this.key.publicKey);

  /** Hex signature over `timestamp + body`; `forge` signs with a key that is not the app's. */
  sign(timestamp: string, body: string, forge = false): string {
    const key = forge ? this.forger.privateKey : this.key.privateKey;
    return sign(null, Buffer.from(timestamp + body), key).toString('hex');
  }
}

function rawPublicKey(key: KeyObject): string {
  // SPKI DER for Ed25519 is a fixed 12-byte header followed by the 32-byte key.
  return key.export({ type: 'spki', format: 'der' }).subarray(12).toString('hex');
}

/** How to tamper with a signed delivery. */
export interface SignedDeliveryOptions {
  /** Sign with the wrong key. */
  forge?: boolean;
  /** Shift the timestamp by this many seconds (negative: in the past). */
  skewSeconds?: number;
  /** Send the previous request again, byte for byte (same timestamp and signature). */
  replay?: boolean;
}

/** Exactly what was sent, so it can be replayed. */
export interface SignedRequest {
  body: string;
  timestamp: string;
  signature: string;
}

/** The bot's HTTP answer. */
export interface SignedDeliveryResult {
  status: number;
  /** The answer parsed as JSON, or its text when it is not JSON. */
  body: unknown;
  /** Milliseconds until the answer arrived. */
  ms: number;
  request: SignedRequest;
}

/** POSTs a signed interaction the way Discord's servers do. */
export async function deliverSigned(
  url: string,
  request: SignedRequest,
): Promise<Omit<SignedDeliveryResult, 'request'>> {
  const started = Date.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)',
      'x-signature-ed25519': request.signature,
      'x-signature-timestamp': request.timestamp,
    },
    body: request.body,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, body, ms: Date.now() - started };
}
