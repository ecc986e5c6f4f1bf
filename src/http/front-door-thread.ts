import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort } from 'node:worker_threads';
import { loadScreen, MAX_BODY_BYTES, type Screen } from './screen.js';
import {
  listenOn,
  notRouted,
  readLimited,
  screenRequest,
  TOO_LARGE,
  writeAnswer,
} from './server.js';

/**
 * The front-door thread (see front-door.ts): owns the listening socket. Screened routes are
 * answered here; every other route is read here and answered by the main thread.
 */

type FromMain =
  | { type: 'route'; method: string; path: string }
  | { type: 'screen'; id: number; path: string; spec: { module: string; options: unknown } }
  | { type: 'listen'; id: number; port: number; host?: string }
  | { type: 'close'; id: number }
  | {
      type: 'response';
      id: number;
      status: number;
      headers: Record<string, string | string[]>;
      body: Uint8Array;
    };

const port = parentPort;
if (!port) throw new Error('front-door-thread.ts runs as a worker thread');
/**
 * A message the main thread could not be sent (one that cannot be copied: a screen let through
 * something too deep) is logged there instead of killing this thread, which serves everyone.
 */
const post = (message: unknown) => {
  try {
    port.postMessage(message);
  } catch (err) {
    port.postMessage({
      type: 'log',
      level: 'error',
      msg: 'front door could not hand a message to the main thread: dropped',
      fields: { err: String(err), kind: (message as { type?: unknown }).type },
    });
  }
};

const proxied = new Set<string>();
const screens = new Map<string, Screen>();
const waiting = new Map<number, ServerResponse>();
let nextRequest = 0;

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    post({ type: 'log', level: 'error', msg: 'front door failed', fields: { err: String(err) } });
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error\n');
  });
});
server.keepAliveTimeout = 65_000;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const key = `${req.method} ${path}`;
  const screen = screens.get(key);
  if (screen) {
    const verdict = await screenRequest(screen, req);
    if (verdict.note)
      post({
        type: 'log',
        level: verdict.note.level,
        msg: verdict.note.msg,
        fields: { path, ...verdict.note.fields },
      });
    const { accepted } = verdict;
    if (accepted !== undefined)
      res.once('finish', () => post({ type: 'accepted', path, accepted }));
    writeAnswer(res, verdict.answer);
    return;
  }
  if (!proxied.has(key)) {
    notRouted(req, res, (m) => proxied.has(`${m} ${path}`) || screens.has(`${m} ${path}`));
    return;
  }
  const body = await readLimited(req, MAX_BODY_BYTES);
  if (!body) {
    writeAnswer(res, TOO_LARGE);
    return;
  }
  const id = nextRequest++;
  waiting.set(id, res);
  res.once('close', () => waiting.delete(id));
  post({ type: 'request', id, method: req.method, url: req.url, headers: req.headers, body });
}

port.on('message', (message: FromMain) => {
  switch (message.type) {
    case 'route':
      proxied.add(`${message.method} ${message.path}`);
      return;
    case 'screen':
      loadScreen(message.spec).then(
        (screen) => {
          screens.set(`POST ${message.path}`, screen);
          post({ type: 'done', id: message.id });
        },
        (err: unknown) => post({ type: 'failed', id: message.id, error: String(err) }),
      );
      return;
    case 'listen':
      listenOn(server, message.port, message.host).then(
        (bound) => post({ type: 'done', id: message.id, port: bound }),
        (err: NodeJS.ErrnoException) =>
          post({ type: 'failed', id: message.id, error: err.message, name: err.name }),
      );
      return;
    case 'close':
      server.close(() => post({ type: 'done', id: message.id }));
      server.closeAllConnections();
      return;
    case 'response': {
      const res = waiting.get(message.id);
      waiting.delete(message.id);
      if (!res || res.headersSent) return;
      res.writeHead(message.status, message.headers);
      res.end(Buffer.from(message.body));
      return;
    }
  }
});
