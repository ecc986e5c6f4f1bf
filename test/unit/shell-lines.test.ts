import { describe, expect, it } from 'vitest';
import { parseShellLine, SHELL_HELP } from '../../adapters/shell/lines.js';
import { ScriptRefs } from '../../adapters/shell/script-refs.js';

describe('the shell reads its own lines before anything runs', () => {
  it('reads press, reply, in, as and wait, and takes any other text as said in the channel', () => {
    expect(parseShellLine('press Accept AR-2026-1')).toEqual({
      kind: 'press',
      button: 'Accept',
      ref: 'AR-2026-1',
    });
    expect(parseShellLine('  press close as resolved ar-2027-12 ')).toEqual({
      kind: 'press',
      button: 'close as resolved',
      ref: 'AR-2027-12',
    });
    expect(parseShellLine('reply ew-2026-3 Seen it: patching tonight')).toEqual({
      kind: 'reply',
      ref: 'EW-2026-3',
      text: 'Seen it: patching tonight',
    });
    expect(parseShellLine('in INC-2026-4')).toEqual({ kind: 'in-incident', ref: 'INC-2026-4' });
    expect(parseShellLine('in #Ops')).toEqual({ kind: 'in', channel: 'ops' });
    expect(parseShellLine('as @kadri')).toEqual({ kind: 'as', handle: '@kadri' });
    expect(parseShellLine('wait 2s')).toEqual({ kind: 'wait', ms: 2000, said: '2s' });
    expect(parseShellLine('/assist list')).toEqual({ kind: 'command', text: '/assist list' });
    expect(parseShellLine('The first host is isolated')).toEqual({
      kind: 'say',
      text: 'The first host is isolated',
    });
    expect(parseShellLine('# a comment')).toEqual({ kind: 'nothing' });
    expect(parseShellLine('exit')).toEqual({ kind: 'exit' });
  });

  it('gives a shell line that is not well formed one line of how to write it', () => {
    const bad = [
      'press',
      'press Accept',
      'press Accept nothing-here',
      'reply AR-2026-1',
      'reply soon please',
      'in ##',
      'in two words',
      'as',
      'wait forever',
      'wait 2h',
    ];
    for (const line of bad) {
      const read = parseShellLine(line);
      expect(read.kind, line).toBe('bad');
      if (read.kind === 'bad') expect(read.reason, line).not.toContain('\n');
    }
  });

  it('lists every shell line in help, the new ones included', () => {
    for (const word of [
      'as @',
      'in #',
      'press <button> <ref>',
      'reply <ref> <text>',
      'wait',
      '$AR',
      'exit',
      'help',
    ]) {
      expect(SHELL_HELP).toContain(word);
    }
  });
});

describe('a script names the references it created, in any year', () => {
  it('expands $AR to the newest, $AR1 and $AR2 to the first and second seen', () => {
    const refs = new ScriptRefs();
    refs.see('TLP:AMBER ✓ AR-2027-1 sent to 2 organisations');
    refs.see('🆘 AR-2027-1 · request for assistance');
    refs.see('TLP:GREEN ✓ AR-2027-2 sent, and INC-2027-4 opened');
    expect(refs.expand('press Accept $AR')).toEqual({ line: 'press Accept AR-2027-2' });
    expect(refs.expand('reply $AR1 see $INC')).toEqual({ line: 'reply AR-2027-1 see INC-2027-4' });
    expect(refs.expand('/assist close $AR2 outcome:withdrawn')).toEqual({
      line: '/assist close AR-2027-2 outcome:withdrawn',
    });
    // Not a name: a longer word, or money.
    expect(refs.expand('$ARTICLE costs $5')).toEqual({ line: '$ARTICLE costs $5' });
  });

  it('does not take AR-2026-10 for AR-2026-1, nor part of a longer word', () => {
    const refs = new ScriptRefs();
    refs.see('AR-2026-10 and XAR-2026-3 and AR-2026-1x');
    expect(refs.expand('$AR1 $AR')).toEqual({ line: 'AR-2026-10 AR-2026-10' });
  });

  it('says why a name has no reference yet, in one line', () => {
    const refs = new ScriptRefs();
    expect(refs.expand('press Acknowledge $EW')).toEqual({
      error: '$EW: no EW reference seen yet in this session',
    });
    refs.see('EW-2026-1');
    expect(refs.expand('$EW3')).toEqual({
      error: '$EW3: this session has seen only 1 EW reference',
    });
    expect(refs.expand('$FS1')).toEqual({ error: '$FS1: this session has seen no FS references' });
  });
});
