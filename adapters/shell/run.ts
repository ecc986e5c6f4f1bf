import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Core } from '../../src/core.js';
import { ShellChat } from './chat.js';
import { ShellSession } from './session.js';
import { loadHistory, printAbovePrompt, saveHistory } from './terminal.js';

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
  const chat = core.chat.get('shell');
  // press and reply read what the shell's port posted: any other port on 'shell' cannot tell.
  if (!(chat instanceof ShellChat)) throw new Error('the shell runs only on its own ShellChat');
  const session = new ShellSession(core, chat);
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
  let prompting = false;
  if (interactive) {
    // On a terminal readline takes Ctrl-C itself (the terminal is raw) and would only pause the
    // input: it becomes the process's SIGINT, whose handler stops Concord within its deadline.
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
    chat.printThrough(printAbovePrompt(rl, output, () => prompting));
    write('Concord shell: /concord help for commands, help for shell lines, exit to leave.');
    rl.setPrompt(session.prompt);
    rl.prompt();
    prompting = true;
  }
  for await (const line of rl) {
    prompting = false;
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
      prompting = true;
    }
  }
  prompting = false;
  rl.close();
}
