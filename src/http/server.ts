import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import {
  loadScreen,
  MAX_BODY_BYTES,
  type Screen,
  type ScreenAnswer,
  type ScreenSpec,
  type ScreenVerdict,
} from './screen.js';

/** A raw route: adapters mount their own endpoints (`/slack/events`) with their own parsing. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpServer {
  route(method: 'GET' | 'POST', path: string, handler: RouteHandler): void;
  /**
   * `POST path` answered by a screen where the socket is (see screen.ts); each request it
   * accepts reaches `onAccepted` on this thread once its answer has been sent.
   */
  screen(path: string, spec: ScreenSpec, onAccepted: (accepted: unknown) => void): Promise<void>;
  /** Listens and resolves with the port (useful with PORT=0). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/**
 * One server for the process, in this thread: health, metrics, and whatever the platform
 * adapters mount. Tests use it; the running process uses the front door (`front-door.ts`), which
 * serves the same routes from a thread of its own.
 */
export function createHttpServer(logger: Logger): HttpServer {
  const routes = new Map<string, RouteHandler>();
  const server = createServer(dispatchTo(routes, logger));
  server.keepAliveTimeout = 65_000;
  return {
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    async screen(path, spec, onAccepted) {
      const screen = await loadScreen(spec);
      routes.set(`POST ${path}`, async (req, res) => {
        const verdict = await screenRequest(screen, req);
        if (verdict.note) logNote(logger, path, verdict.note);
        const { accepted } = verdict;
        if (accepted !== undefined) res.once('finish', () => onAccepted(accepted));
        writeAnswer(res, verdict.answer);
      });
    },
    listen: (port, host) => listenOn(server, port, host),
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Routes each request by method and path; 404 or 405 for anything else. */
function dispatchTo(routes: Map<string, RouteHandler>, logger: Logger): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = routes.get(`${req.method} ${path}`);
    if (!handler) {
      notRouted(req, res, (method) => routes.has(`${method} ${path}`));
      return;
    }
    (async () => handler(req, res))().catch((err: unknown) => {
      logger.error({ err, path }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  };
}

/** 405 naming the methods `path` has (`hasMethod`), or 404 when it has none. */
export function notRouted(
  req: IncomingMessage,
  res: ServerResponse,
  hasMethod: (method: string) => boolean,
): void {
  const allowed = ['GET', 'POST'].filter(hasMethod);
  res.writeHead(allowed.length ? 405 : 404, {
    'content-type': 'text/plain',
    ...(allowed.length ? { allow: allowed.join(', ') } : {}),
  });
  res.end(allowed.length ? 'method not allowed\n' : 'not found\n');
  req.resume();
}

export function listenOn(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new PortInUseError(`port ${port} is in use: set PORT to a free port (PORT=0 picks one)`)
          : err,
      ),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** The answer to a body over MAX_BODY_BYTES; the connection is closed, the rest unread. */
export const TOO_LARGE: ScreenAnswer = {
  status: 413,
  body: 'request body too large\n',
  headers: { connection: 'close' },
};

/** Reads the body and runs the screen on it; a body over MAX_BODY_BYTES gets 413 unread. */
export async function screenRequest(screen: Screen, req: IncomingMessage): Promise<ScreenVerdict> {
  const body = await readLimited(req, MAX_BODY_BYTES);
  if (!body) {
    return {
      answer: TOO_LARGE,
    };
  }
  return screen({ headers: req.headers, body });
}

function logNote(logger: Logger, path: string, note: NonNullable<ScreenVerdict['note']>) {
  logger[note.level]({ path, ...note.fields }, note.msg);
}

export function writeAnswer(res: ServerResponse, answer: ScreenAnswer): void {
  if (res.headersSent) return;
  const { status, body, headers = {} } = answer;
  if (body === undefined || body === '') {
    res.writeHead(status, headers);
    res.end();
  } else if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(body);
  } else {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

/** Reads the body unless it exceeds `limit`; then resolves `undefined` and discards the rest. */
export function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
