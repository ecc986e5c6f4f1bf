import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';

/** A request as the fuzz builds it: any method and path, raw headers, raw body. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Send the body in two chunks without a length (`transfer-encoding: chunked`). */
  chunked?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * HTTP/1.1 over kept-alive sockets to one server, as a platform's delivery fleet would hold
 * them. Node's client refuses header values it cannot send (CR, LF, code points past 0xFF):
 * `headerValue` makes a fuzzed value sendable.
 */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly base: string) {}

  send(raw: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
    if ((raw.body?.length ?? 0) > OVER_THE_WIRE) return this.sendAlone(raw, timeoutMs);
    const url = new URL(this.base);
    return new Promise((resolve, reject) => {
      let answered = false;
      const body = raw.body ?? new Uint8Array();
      const chunked = raw.chunked === true && body.length > 1;
      // Node frames a body by itself only for some methods (POST, PUT, PATCH, …): for GET,
      // OPTIONS or a made-up method it would send the bytes unframed, and the server would read
      // them as the next request. So the framing is always said.
      const framing: Record<string, string> =
        body.length === 0
          ? {}
          : chunked
            ? { 'transfer-encoding': 'chunked' }
            : { 'content-length': String(body.length) };
      const req = request(
        {
          agent: this.agent,
          host: url.hostname,
          port: url.port,
          method: raw.method,
          path: raw.path,
          headers: { ...raw.headers, ...framing },
          timeout: timeoutMs,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      // A server that answers 413 and closes while the body is still going out makes the write
      // fail after the answer came: the answer is what counts.
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      if (chunked) {
        const half = Math.floor(body.length / 2);
        req.write(body.subarray(0, half));
        req.end(body.subarray(half));
      } else {
        req.end(body);
      }
    });
  }

  /**
   * A large body on a connection of its own, written by hand: a server that answers 413 and
   * closes before the body is all out makes Node's client fail the write (EPIPE) and drop the
   * answer it already has. Here writes may fail; the answer is read until the socket closes.
   */
  private sendAlone(raw: RawRequest, timeoutMs: number): Promise<RawResponse> {
    const url = new URL(this.base);
    const body = Buffer.from(raw.body ?? new Uint8Array());
    const lines = [`${raw.method} ${raw.path} HTTP/1.1`, `host: ${url.host}`, 'connection: close'];
    for (const [name, value] of Object.entries(raw.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
    lines.push(raw.chunked ? 'transfer-encoding: chunked' : `content-length: ${body.length}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const payload = raw.chunked
      ? Buffer.concat([
          Buffer.from(`${body.length.toString(16)}\r\n`),
          body,
          Buffer.from('\r\n0\r\n\r\n'),
        ])
      : body;
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      const chunks: Buffer[] = [];
      const timer = setTimeout(
        () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('latin1');
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
        if (!status) {
          reject(new Error(`no HTTP answer to a ${body.length}-byte body`));
          return;
        }
        const split = text.indexOf('\r\n\r\n');
        resolve({
          status: Number(status),
          headers: {},
          body: split < 0 ? '' : text.slice(split + 4),
        });
      });
      socket.write(Buffer.concat([head, payload]));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Bodies larger than this go on a connection of their own (`sendAlone`). */
const OVER_THE_WIRE = 512 * 1024;

/** A header value Node will send: tabs and printable Latin-1 only. */
export function headerValue(text: string): string {
  return text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}
