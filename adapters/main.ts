import { join } from 'node:path';
import { readConfig, runEntryPoint } from './boot.js';
import { createConcord, STOP_WITHIN_MS } from './concord.js';
import { runShell } from './shell/run.js';

// Past `stop`'s own bound (every step of it has a deadline), the process ends regardless.
const BACKSTOP_MS = STOP_WITHIN_MS + 500;

/**
 * The process: Concord assembled (`concord.ts`), listening, then either serving the chat
 * platforms until SIGINT or SIGTERM, or, with no platform configured, the shell on the terminal
 * (or on stdin as a script) until its input ends.
 */
runEntryPoint(async () => {
  const concord = await createConcord({ config: readConfig() });
  const stop = async () => {
    // Every stop step is bounded; this is the backstop should one of them not be.
    const backstop = setTimeout(() => {
      concord.logger.warn({ afterMs: BACKSTOP_MS }, 'stop took too long; exiting');
      process.exit(process.exitCode ?? 1);
    }, BACKSTOP_MS);
    backstop.unref();
    await concord.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop().then(() => process.exit());
      // A second signal means now.
      process.once(signal, () => process.exit(1));
    });
  }
  const port = await concord.start();

  if (concord.platforms.length > 0) {
    concord.logger.info(
      { platforms: concord.platforms, port },
      'concord running on chat platforms',
    );
    // Runs until SIGINT or SIGTERM, whose handlers stop everything and exit.
    await new Promise<never>(() => {});
  }

  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  if (interactive) {
    process.stdout.write(
      `Concord on ${concord.storage.kind} and ${concord.redis.kind} Redis; HTTP on port ${port} (/healthz, /metrics)\n`,
    );
  }
  await runShell({
    core: concord.core,
    input: process.stdin,
    output: process.stdout,
    interactive,
    historyFile: join(concord.config.CONCORD_DATA_DIR, 'shell_history'),
  });
  await stop();
  return 0;
});
