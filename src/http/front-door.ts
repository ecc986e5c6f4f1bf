import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { getPriority, setPriority } from 'node:os';
import { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { startWorkerThread } from '../worker-thread.js';
import { siblingModule } from './screen.js';
import { type HttpServer, PortInUseError, type RouteHandler } from './server.js';

/**
 * The process's HTTP server, run from a thread of its own: the front door. It owns the socket,
 * so a screened route (Slack's `/slack/events`) is verified and acknowledged there within a
 * millisecond or two however busy the main thread is with the bot's work, garbage collection
 * included; each accepted request then reaches the main thread as a message. Other routes
 * (`/healthz`, `/metrics`, `/discord/interactions`) are read there and answered here by the
 * same handlers `createHttpServer` runs.
 */
export interface FrontDoorOptions {
  logger: Logger;
  /** The thread died (it should not): the process can no longer take requests. */
  onFailure?: (err: Error) => void;
}

interface Pending {
  resolve: (message: Done) => void;
  reject: (err: Error) => void;
}
interface Done {
  type: 'done';
  id: number;
  port?: number;
}
type FromThread =
  | Done
  | { type: 'failed'; id: number; error: string; name?: string }
  | { type: 'accepted'; path: string; accepted: unknown }
  | {
      type: 'request';
      id: number;
      method: string;
      url: string;
      headers: IncomingHttpHeaders;
      body: Uint8Array;
    }
  | {
      type: 'log';
      level: 'error' | 'warn' | 'debug';
      msg: string;
      fields?: Record<string, unknown>;
    };

export function startFrontDoor({ logger, onFailure }: FrontDoorOptions): HttpServer {
  const worker = spawnThread();
  const calls = new Map<number, Pending>();
  const routes = new Map<string, RouteHandler>();
  const acceptors = new Map<string, (accepted: unknown) => void>();
  let nextCall = 0;
  let closing = false;

  const call = (message: Record<string, unknown>) =>
    new Promise<Done>((resolve, reject) => {
      const id = nextCall++;
      calls.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });

  const serve = (request: Extract<FromThread, { type: 'request' }>) => {
    const path = request.url.split('?')[0] ?? '/';
    const handler = routes.get(`${request.method} ${path}`);
    const res = new RelayedResponse((status, headers, body) =>
      worker.postMessage({ type: 'response', id: request.id, status, headers, body }),
    );
    const req = Object.assign(Readable.from([Buffer.from(request.body)]), {
      method: request.method,
      url: request.url,
      headers: request.headers,
    }) as unknown as IncomingMessage;
    const response = res as unknown as ServerResponse;
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    (async () => handler(req, response))().catch((err: unknown) => {
      logger.error({ err, path }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  };

  worker.on('message', (message: FromThread) => {
    switch (message.type) {
      case 'done':
        calls.get(message.id)?.resolve(message);
        calls.delete(message.id);
        return;
      case 'failed':
        calls
          .get(message.id)
          ?.reject(
            message.name === 'PortInUseError'
              ? new PortInUseError(message.error)
              : new Error(message.error),
          );
        calls.delete(message.id);
        return;
      case 'accepted': {
        const accept = acceptors.get(message.path);
        if (accept) accept(message.accepted);
        else logger.error({ path: message.path }, 'accepted request with no receiver: dropped');
        return;
      }
      case 'request':
        serve(message);
        return;
      case 'log':
        logger[message.level](message.fields ?? {}, message.msg);
        return;
    }
  });
  // An error is followed by an exit: the process hears of the failure once.
  let failed = false;
  const fail = (err: Error) => {
    for (const pending of calls.values()) pending.reject(err);
    calls.clear();
    if (failed || closing) return;
    failed = true;
    logger.error({ err }, 'front door thread failed');
    onFailure?.(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`front door thread exited with ${code}`)));

  return {
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
      worker.postMessage({ type: 'route', method, path });
    },
    async screen(path, spec, onAccepted) {
      acceptors.set(path, onAccepted);
      await call({ type: 'screen', path, spec });
    },
    async listen(port, host) {
      const done = await call({ type: 'listen', port, ...(host ? { host } : {}) });
      return done.port as number;
    },
    async close() {
      if (closing) return;
      closing = true;
      await call({ type: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}

/**
 * Lowers the calling thread's scheduling priority (nice `nice`, Linux: per thread), so that when
 * the machine's cores are all busy the front door's thread, started before and left at the
 * process's priority, runs first: acknowledgements come before the work they acknowledge. Threads
 * this one starts afterwards inherit the lower priority. Where that is refused, nothing changes.
 */
export function yieldToFrontDoor(logger: Logger, nice = WORK_NICE): void {
  try {
    setPriority(Math.min(19, getPriority() + nice));
  } catch (err) {
    logger.debug({ err }, 'thread priority unchanged');
  }
}
/** How much lower the main thread's priority is than the front door's. */
export const WORK_NICE = 2;

/** The front door's thread, on its script next to this one. */
function spawnThread(): Worker {
  return startWorkerThread(siblingModule(import.meta.url, 'front-door-thread'));
}

/** The part of ServerResponse the route handlers use, answered through the front door. */
class RelayedResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  private readonly headers: Record<string, string | string[]> = {};

  constructor(
    private readonly send: (
      status: number,
      headers: Record<string, string | string[]>,
      body: Uint8Array,
    ) => void,
  ) {
    super();
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers[name.toLowerCase()] = Array.isArray(value) ? [...value] : String(value);
    return this;
  }

  writeHead(status: number, headers: Record<string, string | number | string[]> = {}): this {
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers)) this.setHeader(name, value);
    this.headersSent = true;
    return this;
  }

  end(body?: string | Uint8Array): this {
    this.headersSent = true;
    const bytes = body === undefined ? new Uint8Array() : Buffer.from(body);
    this.send(this.statusCode, this.headers, bytes);
    this.emit('finish');
    return this;
  }
}
