import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Core } from '../../src/core.js';
import { ShellChat } from './chat.js';
import { ShellSession } from './session.js';

export interface ShellOptions {
  core: Core;
  input: Readable;
  output: Writable;
  /** A terminal gets a prompt and history; anything else is read as a script, echoing each line. */
  interactive: boolean;
  historyFile?: string;
}

/**
 * Runs the shell adapter until end of input or `exit`. Lines are handled one at a time, in
 * order, so a script's later lines see what earlier ones did.
 */
export async function runShell(options: ShellOptions): Promise<void> {
  const { core, input, output, interactive } = options;
  if (!core.chat.has('shell')) core.chat.register(new ShellChat(output));
  const session = new ShellSession(core);
  const history = interactive && options.historyFile ? loadHistory(options.historyFile) : [];
  const rl = createInterface({
    input,
    output: interactive ? output : undefined,
    terminal: interactive,
    history,
    historySize: 1000,
  });
  const write = (text: string) => {
    if (text !== '') output.write(`${text}\n`);
  };
  if (interactive) {
    write('Concord shell: /concord help for commands, help for shell lines, exit to leave.');
    rl.setPrompt(session.prompt);
    rl.prompt();
  }
  for await (const line of rl) {
    if (!interactive) {
      const trimmed = line.trim();
      if (trimmed !== '') write(trimmed.startsWith('#') ? trimmed : `${session.prompt}${trimmed}`);
    } else if (options.historyFile && line.trim() !== '') {
      saveHistory(options.historyFile, line);
    }
    const result = await session.handle(line);
    if (result === null) break;
    write(result);
    if (interactive) {
      rl.setPrompt(session.prompt);
      rl.prompt();
    }
  }
  rl.close();
}

function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

function saveHistory(file: string, line: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${line.replace(/\n/g, ' ')}\n`);
  } catch {
    // History is a convenience; a read-only data directory must not stop the shell.
  }
}
