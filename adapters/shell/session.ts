import type { CommandReply } from '../../src/chat/port.js';
import type { ChannelRef, UserRef } from '../../src/chat/refs.js';
import { parseDuration } from '../../src/commands/values.js';
import type { Core } from '../../src/core.js';
import { channelName, shellChannel, shellUser, userName } from './refs.js';
import { renderForShell } from './render.js';

/** The shell's own speaker: always an admin, so a fresh install can build its directory. */
export const SHELL_OPERATOR = 'operator';

const SHELL_HELP = [
  '  Lines starting with / are Concord commands (/concord help lists them). Shell lines:',
  '    as @handle      speak as someone from the directory (as @operator: back to the admin)',
  '    in #channel     speak in another (simulated) channel',
  '    wait 5s         let time pass (reminders fire meanwhile), for scripts',
  '    # text          a comment, printed and ignored',
  '    exit            leave (end of input does the same)',
].join('\n');

/**
 * One terminal conversation: who is speaking, in which channel, and what each line does.
 * `handle` returns the text to print, or null to stop.
 */
export class ShellSession {
  speaker: UserRef = shellUser(SHELL_OPERATOR);
  channel: ChannelRef = shellChannel('general');
  private seq = 0;

  constructor(private readonly core: Core) {}

  get prompt(): string {
    return `${channelName(this.channel)} ${userName(this.speaker)} › `;
  }

  async handle(raw: string): Promise<string | null> {
    const line = raw.trim();
    if (line === '') return '';
    if (line.startsWith('#')) return '';
    if (line === 'exit' || line === 'quit') return null;
    if (line === 'help' || line === '?') return SHELL_HELP;
    const as = /^as\s+(@?[A-Za-z0-9][A-Za-z0-9._-]{0,39})$/.exec(line);
    if (as?.[1]) {
      this.speaker = shellUser(as[1]);
      return `  now speaking as ${userName(this.speaker)}`;
    }
    const into = /^in\s+(#?[a-z0-9][a-z0-9._-]{0,79})$/i.exec(line);
    if (into?.[1]) {
      this.channel = shellChannel(into[1].toLowerCase());
      return `  now in ${channelName(this.channel)}`;
    }
    const wait = /^wait\s+(\S+)$/.exec(line);
    if (wait?.[1]) {
      let ms: number;
      try {
        ms = parseDuration(wait[1]);
      } catch {
        return '  ⚠ write wait <duration>, like wait 5s';
      }
      if (ms > 3_600_000) return '  ⚠ wait at most 1h';
      await new Promise((resolve) => setTimeout(resolve, ms));
      return `  (waited ${wait[1]})`;
    }
    if (/^(as|in|wait)\b/.test(line)) return '  ⚠ write as @handle, in #channel or wait <duration>';
    const reply = await this.core.runCommand({
      deliveryKey: `shell-${process.pid}-${++this.seq}`,
      user: this.speaker,
      channel: this.channel,
      text: line,
    });
    return formatReply(reply, this.channel);
  }
}

function formatReply(reply: CommandReply, channel: ChannelRef): string {
  const prefix = reply.visibility === 'channel' ? `  [to ${channelName(channel)}] ` : '  ';
  return renderForShell(reply.message, prefix);
}
