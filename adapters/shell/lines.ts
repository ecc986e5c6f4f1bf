import { parseDuration } from '../../src/commands/values.js';

/** What one line typed into the shell asks for, before anything runs. */
export type ShellLine =
  | { kind: 'nothing' }
  | { kind: 'exit' }
  | { kind: 'help' }
  | { kind: 'as'; handle: string }
  | { kind: 'in'; channel: string }
  | { kind: 'in-incident'; ref: string }
  | { kind: 'wait'; ms: number; said: string }
  | { kind: 'press'; button: string; ref: string }
  | { kind: 'reply'; ref: string; text: string }
  | { kind: 'command'; text: string }
  | { kind: 'say'; text: string }
  | { kind: 'bad'; reason: string };

export const SHELL_HELP = [
  '  Lines starting with / are Concord commands (/concord help lists them). Shell lines:',
  '    as @handle             speak as someone from the directory (as @operator: back to the admin)',
  '    in #channel            speak in another (simulated) channel; in INC-2026-1 or in $INC: the channel of that incident',
  '    press <button> <ref>   press a button on your newest card about <ref>: press Accept AR-2026-1',
  '    reply <ref> <text>     answer in the thread of your newest card about <ref>',
  '    any other text         said in the current channel (relayed as a platform message would be)',
  '    wait 5s                let time pass (reminders fire meanwhile), for scripts',
  '    $AR $AR1 $AR2 …        the newest, first, second… AR reference shown so far; also $EW $INC $FS',
  '    # text                 a comment, printed and ignored',
  '    help                   this list',
  '    exit                   leave (end of input does the same)',
].join('\n');

const REF = /^(AR|EW|INC|FS)-\d{4}-\d+$/i;
const MAX_WAIT_MS = 3_600_000;

/**
 * Reads one shell line. Pure: the session runs what it says.
 * @example parseShellLine('press Accept AR-2026-1') // { kind: 'press', button: 'Accept', ref: 'AR-2026-1' }
 */
export function parseShellLine(raw: string): ShellLine {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return { kind: 'nothing' };
  if (line === 'exit' || line === 'quit') return { kind: 'exit' };
  if (line === 'help' || line === '?') return { kind: 'help' };
  if (line.startsWith('/')) return { kind: 'command', text: line };
  const word = /^(\S+)(?:\s+(.*))?$/.exec(line);
  const [head, rest = ''] = [word?.[1] ?? '', word?.[2]?.trim() ?? ''];
  switch (head) {
    case 'as': {
      if (/^@?[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(rest)) return { kind: 'as', handle: rest };
      return { kind: 'bad', reason: 'write as @handle, like as @kadri' };
    }
    case 'in': {
      if (REF.test(rest) && rest.toUpperCase().startsWith('INC-'))
        return { kind: 'in-incident', ref: rest.toUpperCase() };
      if (/^#?[a-z0-9][a-z0-9._-]{0,79}$/i.test(rest))
        return { kind: 'in', channel: rest.replace(/^#/, '').toLowerCase() };
      return {
        kind: 'bad',
        reason: 'write in #channel, or in INC-<ref> for the channel of an incident',
      };
    }
    case 'wait': {
      let ms: number;
      try {
        ms = parseDuration(rest);
      } catch {
        return { kind: 'bad', reason: 'write wait <duration>, like wait 5s' };
      }
      if (ms > MAX_WAIT_MS) return { kind: 'bad', reason: 'wait at most 1h' };
      return { kind: 'wait', ms, said: rest };
    }
    case 'press': {
      const press = /^(.+?)\s+(\S+)$/.exec(rest);
      if (press?.[1] && press[2] && REF.test(press[2]))
        return { kind: 'press', button: press[1], ref: press[2].toUpperCase() };
      return {
        kind: 'bad',
        reason: 'write press <button> <ref>, like press Accept AR-2026-1 or press Accept $AR',
      };
    }
    case 'reply': {
      const reply = /^(\S+)\s+(.+)$/.exec(rest);
      if (reply?.[1] && reply[2] && REF.test(reply[1]))
        return { kind: 'reply', ref: reply[1].toUpperCase(), text: reply[2] };
      return {
        kind: 'bad',
        reason: 'write reply <ref> <text>, like reply AR-2026-1 On it, or reply $AR On it',
      };
    }
    default:
      return { kind: 'say', text: line };
  }
}
