import { appendFileSync, chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { clearLine, cursorTo, type Interface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { ShellPrinter } from './chat.js';

/** The history holds what was typed, TLP:RED text included: only its owner may read it. */
export const HISTORY_MODE = 0o600;

/**
 * Prints for a terminal: while the prompt waits for a line, something printed on its own (a
 * reminder firing, a relayed reply) goes above it, and the prompt with the half-typed line is
 * drawn again below. While a line is being handled there is no prompt to keep.
 */
export function printAbovePrompt(
  rl: Interface,
  output: Writable,
  prompting: () => boolean,
): ShellPrinter {
  return (text) => {
    if (!prompting()) {
      output.write(`${text}\n`);
      return;
    }
    clearLine(output, 0);
    cursorTo(output, 0);
    output.write(`${text}\n`);
    rl.prompt(true);
  };
}

/** The lines typed in earlier sessions, newest first; the file is made private if it was not. */
export function loadHistory(file: string): string[] {
  try {
    chmodSync(file, HISTORY_MODE);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

export function saveHistory(file: string, line: string): void {
  try {
    // Private like the history (it is made here when the data directory is not held: with
    // DATABASE_URL and REDIS_URL both set).
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // The mode applies when the file is created; one made before was made private on loading.
    appendFileSync(file, `${line.replace(/\n/g, ' ')}\n`, { mode: HISTORY_MODE });
  } catch {
    // History is a convenience; a read-only data directory must not stop the shell.
  }
}
