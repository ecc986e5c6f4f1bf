import { randomBytes } from 'node:crypto';
import type { FakeChannel, InteractionResult } from '../../fakes/slack/index.js';
import type { Expectation } from './ledger.js';
import { until } from './ports.js';
import type { FaultWorld } from './world.js';

/** A word no other message contains, to count one workload's messages by. */
export const token = (name: string) => `${name}${randomBytes(3).toString('hex')}`;

/** The text of the first answer to a command, once it came (within `timeoutMs`). */
export async function firstAnswer(
  world: FaultWorld,
  sent: InteractionResult,
  timeoutMs = 30_000,
): Promise<string | undefined> {
  await until(() => world.answersTo(sent.triggerId).length > 0, timeoutMs, 50);
  const answer = world.answersTo(sent.triggerId)[0];
  return answer ? String(answer.body.text ?? '') : undefined;
}

export interface FanOut {
  tag: string;
  sent: InteractionResult;
  expectations: Expectation[];
  /** Inboxes holding the card right now. */
  reached(): number;
}

/**
 * An early warning (`/alert … to:delegations`) from HQ: one card in every delegation's inbox,
 * on both platforms.
 */
export async function alertEveryDelegation(world: FaultWorld, tag: string): Promise<FanOut> {
  const sent = await world.command(
    `/alert Drill ${tag} wiper in shared VPN appliances to:delegations tlp:amber severity:high`,
  );
  if (sent.status !== 200) throw new Error(`/alert was answered ${sent.status}`);
  const expectations = world.inboxes.map((b) => ({
    label: `card ${tag} in ${b.org} (${b.platform})`,
    copies: () => world.inboxCopies(b, tag),
  }));
  return {
    tag,
    sent,
    expectations,
    reached: () => expectations.filter((e) => e.copies() > 0).length,
  };
}

export interface Sessions {
  tag: string;
  expectations: Expectation[];
  /** When the last reminder or start is due (ms since the epoch, roughly). */
  lastDueAt: number;
}

/**
 * What one forum session sends: for each reminder (`remind`, seconds before the start) a message
 * in its channel and a direct message to each participant (the organiser and the two others), and
 * "starts now" in the channel.
 */
export function sessionExpectations(
  world: FaultWorld,
  title: string,
  forum: FakeChannel,
  remind: readonly number[],
): Expectation[] {
  const people = [world.sender, ...world.participants];
  const expectations: Expectation[] = [];
  for (const s of remind) {
    const lead = `starts in ${s}s: ${title}`;
    expectations.push({
      label: `${lead} in #${forum.name}`,
      copies: () => world.slackCopies(forum.id, lead),
    });
    for (const person of people) {
      expectations.push({
        label: `${lead} to @${person.name}`,
        copies: () => world.slackCopies(world.slack.dmWith(person.id), lead),
      });
    }
  }
  const start = `starts now: ${title}`;
  expectations.push({
    label: `${start} in #${forum.name}`,
    copies: () => world.slackCopies(forum.id, start),
  });
  return expectations;
}

/** The `/forum schedule` command for one session, `inS` seconds from now. */
export const scheduleCommand = (
  world: FaultWorld,
  title: string,
  inS: number,
  remind: readonly number[],
) =>
  `/forum schedule ${title} at:+${inS}s remind:${remind.map((s) => `${s}s`).join(',')} participants:${world.participants.map((p) => `<@${p.id}>`).join(',')}`;

/** A session's title: the tag and its number, none a prefix of another. */
export const sessionTitle = (tag: string, i: number) => `${tag}-s${String(i + 1).padStart(2, '0')}`;

/**
 * One forum session per forum channel, the first starting `firstInS` seconds from now and each
 * next one `spreadS` later, with reminders `remind` seconds before (`sessionExpectations`).
 * Resolves once every session is scheduled.
 */
export async function scheduleSessions(
  world: FaultWorld,
  tag: string,
  options: { firstInS: number; spreadS: number; remind: readonly number[] },
): Promise<Sessions> {
  const expectations: Expectation[] = [];
  const started = Date.now();
  let lastDueAt = started;
  const sends = world.forums.map(async (forum, i) => {
    const title = sessionTitle(tag, i);
    const inS = options.firstInS + i * options.spreadS;
    lastDueAt = Math.max(lastDueAt, started + inS * 1000);
    const sent = await world.command(scheduleCommand(world, title, inS, options.remind), forum);
    const answer = await firstAnswer(world, sent);
    if (!answer?.includes('Scheduled'))
      throw new Error(`/forum schedule ${title} was answered: ${answer ?? 'nothing'}`);
    expectations.push(...sessionExpectations(world, title, forum, options.remind));
  });
  await Promise.all(sends);
  return { tag, expectations, lastDueAt };
}
