import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

/** A raw route: adapters mount their own endpoints (`/slack/events`) with their own parsing. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpServer {
  route(method: 'GET' | 'POST', path: string, handler: RouteHandler): void;
  /** Listens and resolves with the port (useful with PORT=0). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  readonly server: Server;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** One server for the process: health, metrics, and whatever the platform adapters mount. */
export function createHttpServer(logger: Logger): HttpServer {
  const routes = new Map<string, RouteHandler>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = routes.get(`${req.method} ${path}`);
    if (!handler) {
      const allowed = ['GET', 'POST'].filter((m) => routes.has(`${m} ${path}`));
      res.writeHead(allowed.length ? 405 : 404, {
        'content-type': 'text/plain',
        ...(allowed.length ? { allow: allowed.join(', ') } : {}),
      });
      res.end(allowed.length ? 'method not allowed\n' : 'not found\n');
      req.resume();
      return;
    }
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      logger.error({ err, path }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'EADDRINUSE'
              ? new PortInUseError(
                  `port ${port} is in use: set PORT to a free port (PORT=0 picks one)`,
                )
              : err,
          ),
        );
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
