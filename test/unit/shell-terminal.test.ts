import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HISTORY_MODE,
  loadHistory,
  printAbovePrompt,
  saveHistory,
} from '../../adapters/shell/terminal.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-shell-terminal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (file: string) => statSync(file).mode & 0o777;

describe("the shell's history holds TLP text: only its owner may read it", () => {
  it('creates the history file with mode 0600', () => {
    const file = join(dir, 'new', 'shell_history');
    saveHistory(file, '/assist request Leaked credentials tlp:red');
    expect(mode(file)).toBe(HISTORY_MODE);
    expect(loadHistory(file)).toEqual(['/assist request Leaked credentials tlp:red']);
  });

  it('makes an existing, readable history private when it loads it', () => {
    const file = join(dir, 'old_history');
    writeFileSync(file, 'first\nsecond\n', { mode: 0o644 });
    expect(mode(file)).toBe(0o644);
    expect(loadHistory(file)).toEqual(['second', 'first']);
    expect(mode(file)).toBe(HISTORY_MODE);
  });
});

describe('asynchronous output on a terminal', () => {
  function terminal() {
    const input = new PassThrough();
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let text = '';
    output.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const rl = createInterface({ input, output, terminal: true });
    rl.setPrompt('#general @kadri › ');
    return { input, output, rl, printed: () => text, reset: () => (text = '') };
  }

  it('goes above the prompt, which is drawn again with the half-typed line', async () => {
    const { input, output, rl, printed, reset } = terminal();
    rl.prompt();
    input.write('/assist li');
    await new Promise((resolve) => setImmediate(resolve));
    reset();
    printAbovePrompt(rl, output, () => true)('  ┊ [@kadri #3] Forum session starts in 4s');
    const shown = printed();
    // Cleared the line, printed the message, then the prompt and what was typed so far.
    expect(shown.indexOf('┊ [@kadri #3]')).toBeGreaterThan(shown.indexOf('\u001b[2K'));
    expect(shown.slice(shown.indexOf('starts in 4s\n'))).toContain('#general @kadri › /assist li');
    expect(rl.line).toBe('/assist li');
    rl.close();
  });

  it('is printed as it is while a line is being handled, with no prompt to keep', () => {
    const { output, rl, printed, reset } = terminal();
    reset();
    printAbovePrompt(rl, output, () => false)('  ┊ [#ops #1] posted');
    expect(printed()).toBe('  ┊ [#ops #1] posted\n');
    rl.close();
  });
});
