import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runNpm } from '../e2e/run-process.js';
import { type FakeSlack, startFakeSlack } from '../fakes/slack/index.js';

// Concord as a real process on Slack (the fake), killed with SIGKILL after Slack created the
// incident's channel but before Concord heard back: started again, it finishes the incident in
// that same channel instead of making a second one.
const ROOT = new URL('../..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'concord-crash-'));
const running: ChildProcess[] = [];
let fake: FakeSlack | undefined;
afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

function startConcord(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'adapters/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(child);
  return child;
}

/** Up, with the Slack adapter mounted: an unsigned request is refused rather than not found. */
async function healthy(port: number) {
  await vi.waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST' });
      expect(res.status).toBe(401);
    },
    { timeout: 30_000, interval: 200 },
  );
}

describe('Concord killed in the middle of opening an incident', () => {
  it('resumes on restart in the channel Slack already made: one channel, one card', async () => {
    fake = await startFakeSlack({ rateLimits: false });
    const kadri = fake.addUser({ name: 'kadri' });
    const bob = fake.addUser({ name: 'bob' });
    const ops = fake.addChannel({ name: 'ops', members: [fake.botUserId, kadri.id] });
    const directory = join(dataDir, 'directory.yaml');
    writeFileSync(
      directory,
      [
        'organisations:',
        '  - { code: EST, name: Estonia, kind: delegation }',
        '  - { code: ACME, name: Acme Security, kind: industry }',
        'people:',
        `  - { handle: kadri, name: Kadri Tamm, org: EST, role: delegate, tz: UTC, slack: ${kadri.id} }`,
        `  - { handle: bob, name: Bob Stone, org: ACME, role: liaison, tz: UTC, slack: ${bob.id} }`,
        'contacts:',
        '  - { org: ACME, capability: incident-response, primary: bob }',
        '',
      ].join('\n'),
    );
    const imported = await runNpm(['run', 'directory:import', '--', directory], {
      env: { CONCORD_DATA_DIR: dataDir },
    });
    expect(imported.code).toBe(0);

    const port = await freePort();
    const env = {
      CONCORD_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'error',
      ...fake.concordEnv(),
    };
    const first = startConcord(env);
    await healthy(port);

    fake.holdAfter.set('conversations.create', 20_000);
    const sent = await fake.sendCommand(`http://127.0.0.1:${port}/slack/events`, {
      command: '/incident',
      text: 'open Wiper at the port orgs:ACME',
      user_id: kadri.id,
      channel_id: ops.id,
    });
    expect(sent.status).toBe(200);
    await vi.waitFor(() => expect(fake?.callsTo('conversations.create')).toHaveLength(1), {
      timeout: 10_000,
    });
    const exited = new Promise((resolve) => first.once('exit', resolve));
    first.kill('SIGKILL');
    await exited;
    fake.holdAfter.clear();
    const name = 'inc-2026-1-wiper-at-the-port';
    expect(fake.channelByName(name)).toBeDefined();
    expect(fake.callsTo('pins.add')).toHaveLength(0);

    const second = startConcord(env);
    await healthy(port);
    // The dead process's lease (30 s) runs out, then the next resume pass (every 10 s) takes it.
    await vi.waitFor(() => expect(fake?.callsTo('pins.add')).toHaveLength(1), { timeout: 60_000 });
    const channels = [...fake.state.channels.values()].filter((c) => c.name.startsWith('inc-'));
    expect(channels.map((c) => c.name)).toEqual([name]);
    const [channel] = channels;
    expect([...(channel?.members ?? [])].sort()).toEqual([fake.botUserId, kadri.id, bob.id].sort());
    expect(fake.messagesIn(channel?.id as string)).toHaveLength(1);
    expect(fake.callsTo('conversations.create')).toHaveLength(1);
    const stopped = new Promise((resolve) => second.once('exit', resolve));
    second.kill('SIGTERM');
    expect(await stopped).toBe(0);
  }, 120_000);
});
