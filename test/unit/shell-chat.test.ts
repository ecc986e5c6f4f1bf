import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ShellChat } from '../../adapters/shell/chat.js';
import { shellUser } from '../../adapters/shell/refs.js';

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
