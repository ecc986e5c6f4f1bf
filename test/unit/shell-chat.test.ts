import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ShellChat } from '../../adapters/shell/chat.js';
import { shellChannel, shellDirect, shellUser } from '../../adapters/shell/refs.js';

const shellDirectOf = (handle: string) => shellDirect(shellUser(handle));
const shellChannelOf = shellChannel;

function shell() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { chat: new ShellChat(out), printed: () => text };
}

describe('the shell chat port simulates what the bot creates, and shows it as such', () => {
  it('creates channels, suffixing a name that is taken, and invites once', async () => {
    const { chat, printed } = shell();
    const first = await chat.createChannel({ name: 'inc-2026-1-ransomware', private: false });
    const second = await chat.createChannel({
      name: 'inc-2026-1-ransomware',
      private: true,
      topic: 'TLP:RED',
    });
    expect(first).toBe('shell:#inc-2026-1-ransomware');
    expect(second).toBe('shell:#inc-2026-1-ransomware-2');
    await chat.invite(second, [shellUser('kadri'), shellUser('ann')]);
    await chat.invite(second, [shellUser('kadri')]);
    expect(printed()).toBe(
      [
        '  ┊ simulated channel #inc-2026-1-ransomware created',
        '  ┊ simulated private channel #inc-2026-1-ransomware-2 created: TLP:RED',
        '  ┊ #inc-2026-1-ransomware-2: invited @kadri, @ann',
        '',
      ].join('\n'),
    );
  });

  it('posts, threads, edits, pins and sends direct messages with references that say where', async () => {
    const { chat, printed } = shell();
    const channel = await chat.createChannel({ name: 'ops', private: false });
    const card = await chat.post(channel, {
      tlp: 'amber',
      title: 'Request AR-2026-1',
      fields: [{ label: 'Urgency', value: 'urgent' }],
    });
    const reply = await chat.post(channel, { body: 'on it' }, { thread: card });
    await chat.update(card, { tlp: 'amber', title: 'Request AR-2026-1 (accepted)' });
    await chat.pin?.(card);
    const dm = await chat.sendDirect(shellUser('ann'), { tlp: 'red', body: 'for you only' });
    expect([card, reply, dm]).toEqual(['shell:#ops/1', 'shell:#ops/2', 'shell:@ann/1']);
    expect(printed()).toContain(
      '  ┊ [#ops #1] TLP:AMBER Request AR-2026-1\n  ┊  Urgency: urgent\n',
    );
    expect(printed()).toContain('  ┊ [#ops thread 1 #2] on it\n');
    expect(printed()).toContain('  ┊ [#ops #1 edited] TLP:AMBER Request AR-2026-1 (accepted)\n');
    expect(printed()).toContain('  ┊ #ops: pinned #1\n');
    expect(printed()).toContain('  ┊ [direct message to @ann #1] TLP:RED\n  ┊  for you only\n');
  });
});

describe('the shell chat port remembers its cards, for press and reply', () => {
  const card = (title: string, buttons: string[] = []) => ({
    title,
    buttons: buttons.map((label) => ({ action: `x.${label}`, value: '7', label })),
  });

  it('finds the cards about a reference that reached someone, newest first, as edited', async () => {
    const { chat } = shell();
    const bob = shellUser('bob');
    const inbox = await chat.createChannel({ name: 'acme-inbox', private: false });
    const first = await chat.sendDirect(bob, card('🆘 AR-2026-1 · request', ['Accept']));
    await chat.post(inbox, card('🆘 AR-2026-1 · request', ['Accept']));
    await chat.sendDirect(bob, card('🆘 AR-2026-10 · request', ['Accept']));
    await chat.post(shellDirectOf('bob'), { title: '💬 reply · AR-2026-1' }, { thread: first });
    // Bob has not been in the inbox: only his direct message reached him.
    expect(chat.cardsAbout('AR-2026-1', bob).map((c) => c.ref)).toEqual([first]);
    chat.enter(inbox, bob);
    expect(chat.cardsAbout('ar-2026-1', bob).map((c) => c.ref)).toEqual([
      'shell:#acme-inbox/1',
      first,
    ]);
    await chat.update(first, card('🆘 AR-2026-1 · request (accepted)'));
    expect(chat.cardsAbout('AR-2026-1', bob).at(-1)?.message.buttons).toEqual([]);
    expect(chat.cardsAbout('AR-2026-1', shellUser('carol'))).toEqual([]);
  });

  it('lets people invited by the bot see its posts, and tells them apart from those who spoke', async () => {
    const { chat, printed } = shell();
    const channel = await chat.createChannel({ name: 'inc-2026-1-leak', private: true });
    chat.enter(channel, shellUser('mallory'));
    await chat.invite(channel, [shellUser('kadri'), shellUser('mallory')]);
    expect(printed()).toContain('invited @kadri, @mallory');
    await chat.post(channel, card('INC-2026-1 · Leak'));
    expect(chat.cardsAbout('INC-2026-1', shellUser('kadri'))).toHaveLength(1);
    expect(chat.incidentChannel('INC-2026-1')).toBe(channel);
    expect(chat.incidentChannel('INC-2026-10')).toBeNull();
    expect(chat.knows(channel)).toBe(true);
    expect(chat.knows(shellChannelOf('typo'))).toBe(false);
  });

  it('gives what a person says a reference of its own, without printing it', () => {
    const { chat, printed } = shell();
    const before = chat.postCount;
    expect(chat.say(shellChannelOf('ops'), shellUser('kadri'))).toBe('shell:#ops/1');
    expect(chat.say(shellChannelOf('ops'), shellUser('kadri'))).toBe('shell:#ops/2');
    expect(chat.postCount).toBe(before);
    expect(printed()).toBe('');
  });
});
