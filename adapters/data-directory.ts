import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { isAlive } from '../src/redis/private-server.js';
import { StartupError } from './boot.js';

/** The data directory, held by this process until `release` or its end. */
export interface DataDirectoryHold {
  readonly dir: string;
  release(): Promise<void>;
}

/**
 * Makes this process the only one using `dir` (PGlite's files, the private redis-server's AOF
 * and socket, the shell history). PGlite is single-process: a second process on the same files
 * loses writes of either side, and once stopped a second process used to shut down the first
 * one's redis-server. So any other process on the directory is refused, in one line naming the
 * holder's pid, before it opens anything.
 *
 * On Linux the hold is an abstract unix socket named after the directory's real path: the kernel
 * frees it when the process ends, however it ends, and binding it is atomic, so two processes
 * starting at once cannot both win. The holder answers a connection with its pid. Elsewhere
 * (macOS has no abstract sockets) it is a pid file checked for liveness, whose one gap is two
 * processes taking over a dead holder's file at the same instant. An abstract socket belongs to
 * a network namespace: two containers (or a unit with PrivateNetwork=) sharing one data volume
 * do not see each other's hold, so give each its own data directory.
 *
 * The directory is created private to its owner (0700): it holds TLP-labelled text.
 */
export async function holdDataDirectory(dir: string): Promise<DataDirectoryHold> {
  const existed = existsSync(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Tightened when it is Concord's own (made now, or holding Concord's files from before this
  // rule); a directory that holds other things too (CONCORD_DATA_DIR=.) is left as it is.
  if (!existed || CONCORD_FILES.some((name) => existsSync(join(dir, name)))) {
    try {
      chmodSync(dir, 0o700);
    } catch {
      // Not ours to change (another owner's directory we may write to): keep it as it is.
    }
  }
  const real = realpathSync(dir);
  return process.platform === 'linux' ? holdBySocket(dir, real) : holdByPidFile(dir, real);
}

const CONCORD_FILES = ['pgdata', 'redis', 'shell_history'];

function inUse(dir: string, pid: number | undefined): StartupError {
  return new StartupError(
    `${dir} is in use by another Concord process${pid ? ` (pid ${pid})` : ''}: stop it first, or set CONCORD_DATA_DIR to another directory`,
  );
}

async function holdBySocket(dir: string, real: string): Promise<DataDirectoryHold> {
  const name = `\0concord-data-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(`${process.pid}\n`);
  });
  try {
    await listen(server, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw inUse(dir, await askHolder(name));
  }
  // The hold must never keep the process alive on its own.
  server.unref();
  return {
    dir,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The holder's pid, as it answers on its socket; undefined if it does not within a second. */
function askHolder(path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    let said = '';
    const done = () => {
      socket.destroy();
      const pid = Number.parseInt(said, 10);
      resolve(Number.isSafeInteger(pid) && pid > 0 ? pid : undefined);
    };
    socket.setTimeout(1_000, done);
    socket.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
    });
    socket.on('end', done);
    socket.on('error', done);
  });
}

async function holdByPidFile(dir: string, real: string): Promise<DataDirectoryHold> {
  const file = join(real, 'concord.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      const release = async () => {
        if (readPid(file) === process.pid) unlinkSync(file);
      };
      process.once('exit', () => {
        try {
          if (readPid(file) === process.pid) unlinkSync(file);
        } catch {}
      });
      return { dir, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(file);
      if (pid !== undefined && isAlive(pid)) throw inUse(dir, pid);
      // The holder is gone (killed, or the machine restarted): its file is stale.
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  throw inUse(dir, readPid(file));
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
