import { randomBytes } from 'node:crypto';
import { renderPlainText } from '../../src/chat/message.js';
import type { CommandReply, InboundMessage } from '../../src/chat/port.js';
import type { ChannelRef, UserRef } from '../../src/chat/refs.js';
import type { Core } from '../../src/core.js';
import type { PostedCard, ShellChat } from './chat.js';
import { parseShellLine, SHELL_HELP } from './lines.js';
import { channelName, shellChannel, shellUser, userName } from './refs.js';
import { renderForShell } from './render.js';
import { ScriptRefs } from './script-refs.js';

/** The shell's own speaker: always an admin, so a fresh install can build its directory. */
export const SHELL_OPERATOR = 'operator';

const GENERAL = shellChannel('general');

/**
 * One terminal conversation: who is speaking, in which channel, and what each line does.
 * `handle` returns the text to print, or null to stop.
 *
 * A card "reached" the speaker when it is a direct message to them, or was posted in a simulated
 * channel they are in: one the bot invited them to, or one they have spoken in from the shell
 * (any command, press, reply or message there, and the channel they are in now). `press` and
 * `reply` act on the newest such card whose title names the reference.
 */
export class ShellSession {
  speaker: UserRef = shellUser(SHELL_OPERATOR);
  channel: ChannelRef = GENERAL;
  readonly refs = new ScriptRefs();
  private seq = 0;
  /** Inbound keys are claimed for two days: a second run's process id may be this one's. */
  private readonly run = randomBytes(4).toString('hex');

  constructor(
    private readonly core: Core,
    private readonly chat: ShellChat,
  ) {
    chat.watch((text) => this.refs.see(text));
  }

  get prompt(): string {
    return `${channelName(this.channel)} ${userName(this.speaker)} › `;
  }

  private nextKey(): string {
    return `shell-${this.run}-${++this.seq}`;
  }

  async handle(raw: string): Promise<string | null> {
    const first = parseShellLine(raw);
    if (first.kind === 'nothing') return '';
    if (first.kind === 'exit') return null;
    if (first.kind === 'help') return SHELL_HELP;
    const expanded = this.refs.expand(raw.trim());
    if ('error' in expanded) return `  ⚠ ${expanded.error}; nothing was done`;
    const line = parseShellLine(expanded.line);
    switch (line.kind) {
      case 'nothing':
      case 'exit':
      case 'help':
        return '';
      case 'bad':
        return `  ⚠ ${line.reason}`;
      case 'as':
        return this.speakAs(line.handle);
      case 'in':
        return this.moveTo(shellChannel(line.channel));
      case 'in-incident': {
        const channel = this.chat.incidentChannel(line.ref);
        if (!channel)
          return `  ⚠ no simulated channel of ${line.ref} in this session; still in ${channelName(this.channel)}`;
        return this.moveTo(channel);
      }
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, line.ms));
        return `  (waited ${line.said})`;
      case 'press':
        this.chat.enter(this.channel, this.speaker);
        return this.press(line.button, line.ref);
      case 'reply':
        this.chat.enter(this.channel, this.speaker);
        return this.reply(line.ref, line.text);
      case 'say':
        return this.say(line.text);
      case 'command':
        return this.command(line.text);
    }
  }

  private async speakAs(handle: string): Promise<string> {
    this.speaker = shellUser(handle);
    const now = `  now speaking as ${userName(this.speaker)}`;
    // The operator is an admin without a directory entry, on purpose: nothing to warn about.
    if (this.speaker === shellUser(SHELL_OPERATOR) || (await this.inDirectory(this.speaker)))
      return now;
    return `${now}\n  ⚠ ${userName(this.speaker)} is not in Concord's directory: Concord answers them as a stranger`;
  }

  /** Whether the directory knows them; a directory that cannot be read gives no warning. */
  private async inDirectory(user: UserRef): Promise<boolean> {
    return this.core.findPerson(user).then(
      (person) => person !== null,
      () => true,
    );
  }

  private moveTo(channel: ChannelRef): string {
    this.channel = channel;
    const now = `  now in ${channelName(channel)}`;
    if (channel === GENERAL || this.chat.knows(channel)) return now;
    return `${now}\n  ⚠ ${channelName(channel)} is new: the shell has not simulated it and Concord has posted nothing there`;
  }

  private async command(text: string): Promise<string> {
    this.chat.enter(this.channel, this.speaker);
    const reply = await this.core.runCommand({
      deliveryKey: this.nextKey(),
      user: this.speaker,
      channel: this.channel,
      text,
    });
    return this.show(reply);
  }

  private async press(button: string, ref: string): Promise<string> {
    const cards = this.chat.cardsAbout(ref, this.speaker);
    const who = userName(this.speaker);
    const newest = cards[0];
    if (!newest) return `  ⚠ no card about ${ref} reached ${who}; nothing was pressed`;
    const wanted = button.trim().toLowerCase();
    const fits = (label: string) =>
      label.toLowerCase() === wanted || label.toLowerCase().split(/\s+/)[0] === wanted;
    const card = cards.find((c) => c.message.buttons?.some((b) => fits(b.label)));
    const pressed = card?.message.buttons?.find((b) => fits(b.label));
    if (!card || !pressed) {
      const labels = newest.message.buttons?.map((b) => b.label) ?? [];
      return `  ⚠ the card about ${ref} that reached ${who} (${where(newest)}) has no ${button} button: ${labels.length ? `its buttons are ${labels.join(', ')}` : 'it has no buttons now'}`;
    }
    const reply = await this.core.inbound.action({
      deliveryKey: this.nextKey(),
      user: this.speaker,
      channel: card.channel,
      message: card.ref,
      action: pressed.action,
      value: pressed.value,
    });
    if (!reply) return '  (that press was handled already)';
    return this.show(reply);
  }

  private async reply(ref: string, text: string): Promise<string> {
    const [card] = this.chat.cardsAbout(ref, this.speaker);
    if (!card)
      return `  ⚠ no card about ${ref} reached ${userName(this.speaker)}; nothing was sent`;
    const relayed = await this.relay({
      channel: card.channel,
      message: this.chat.say(card.channel, this.speaker),
      thread: card.ref,
      text,
    });
    return `  replied in the thread of ${where(card)}: ${relayed ?? 'Concord relayed nothing'}`;
  }

  private async say(text: string): Promise<string> {
    const relayed = await this.relay({
      channel: this.channel,
      message: this.chat.say(this.channel, this.speaker),
      text,
    });
    // A channel's messages go to its twins on the other platforms; the shell is the only one.
    return `  said in ${channelName(this.channel)}: ${relayed ?? 'Concord relayed nothing (twin channels are on other platforms)'}`;
  }

  /**
   * Handed to the core as a platform hands it a message: what the core posted for it, or null
   * when it posted nothing.
   */
  private async relay(said: Omit<InboundMessage, 'deliveryKey' | 'user'>): Promise<string | null> {
    const before = this.chat.postCount;
    try {
      await this.core.inbound.message({ deliveryKey: this.nextKey(), user: this.speaker, ...said });
    } catch (error) {
      return `⚠ not relayed: ${error instanceof Error ? error.message : String(error)}`;
    }
    const posted = this.chat.postCount - before;
    return posted === 0
      ? null
      : `Concord posted ${posted} message${posted === 1 ? '' : 's'} (above)`;
  }

  private show(reply: CommandReply): string {
    const text = renderPlainText(reply.message);
    if (!text.startsWith('⚠')) this.refs.see(text);
    const prefix = reply.visibility === 'channel' ? `  [to ${channelName(this.channel)}] ` : '  ';
    return renderForShell(reply.message, prefix);
  }
}

/** `@bob #1`: the card's place as the shell printed it. */
const where = (card: PostedCard) => `${channelName(card.channel)} #${card.ref.split('/').pop()}`;
