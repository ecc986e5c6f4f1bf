import { TLP_LEVELS, type TlpLevel, tlpLabel } from '../chat/message.js';

/**
 * The Traffic Light Protocol (FIRST TLP 2.0) as Concord enforces it: design section 3. Pure
 * functions, no I/O: every path that posts asks `mayDeliver` first, and every change of level
 * asks `mayChangeLevel`.
 */

/** Where a message would go, described in the terms the rules need. */
export type Destination =
  | {
      kind: 'direct';
      /** The recipient's directory entry; null for someone Concord does not know. */
      person: { id: number; org: string | null } | null;
    }
  | {
      kind: 'channel';
      /** An inbox or incident channel Concord knows and an organisation owns. */
      registered: boolean;
      /** Only invited members can read it. */
      private: boolean;
      /** The organisations whose members are in it (a bridged twin counts both sides). */
      orgs: readonly string[];
      /** Directory ids of everyone in it, when known (needed for TLP:RED). */
      members?: readonly number[];
    };

/** Who a piece of information belongs to. */
export interface Audience {
  /** Organisations party to the incident, request or alert. */
  parties: readonly string[];
  /** People named as recipients (TLP:RED). */
  named: readonly number[];
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const ok: Verdict = { ok: true };
const refuse = (level: TlpLevel, why: string): Verdict => ({
  ok: false,
  reason: `${tlpLabel(level)} ${why}`,
});

export const tlpRank = (level: TlpLevel) => TLP_LEVELS.indexOf(level);

/** Channels carrying this level must be private: TLP:AMBER and above. */
export const needsPrivateChannel = (level: TlpLevel) => tlpRank(level) >= tlpRank('amber');

/** Whether a message at `level` may go to `destination`, and if not, the one-line reason. */
export function mayDeliver(level: TlpLevel, destination: Destination, audience: Audience): Verdict {
  if (level === 'clear') return ok;

  if (destination.kind === 'direct') {
    const person = destination.person;
    if (!person) return refuse(level, 'goes only to people in the directory');
    if (level === 'green') return ok;
    if (level === 'red') {
      return audience.named.includes(person.id)
        ? ok
        : refuse(level, 'goes only to the people named for it');
    }
    if (person.org === null || !audience.parties.includes(person.org)) {
      return refuse(level, 'goes only to the organisations party to it');
    }
    return ok;
  }

  if (!destination.registered)
    return refuse(level, 'never goes to a channel Concord does not know');
  if (level === 'green') return ok;
  if (!destination.private) return refuse(level, 'goes only to private channels');
  if (level === 'red') {
    const members = destination.members;
    if (!members)
      return refuse(level, 'goes to a channel only when its members are known to be named');
    return members.every((m) => audience.named.includes(m))
      ? ok
      : refuse(level, 'goes only to a channel whose members are all named for it');
  }
  const outsiders = destination.orgs.filter((o) => !audience.parties.includes(o));
  if (outsiders.length > 0) {
    return refuse(level, `goes only to the organisations party to it, not ${outsiders.join(', ')}`);
  }
  if (level === 'amber+strict' && destination.orgs.length > 1) {
    return refuse(
      level,
      'never goes to a channel shared by several organisations; use one thread per organisation',
    );
  }
  return ok;
}

/** Who is asking to change a level. */
export interface LevelChanger {
  /** Raised it first: the person (or their organisation) that set the original level. */
  isOriginator: boolean;
  /** Their organisation is a party. */
  isParty: boolean;
}

/** Raising a level is open to every party; lowering it only to the originator. */
export function mayChangeLevel(from: TlpLevel, to: TlpLevel, who: LevelChanger): Verdict {
  if (from === to) return ok;
  if (tlpRank(to) > tlpRank(from)) {
    return who.isParty || who.isOriginator
      ? ok
      : { ok: false, reason: 'only a party may raise the TLP level' };
  }
  return who.isOriginator
    ? ok
    : { ok: false, reason: `only the originator may lower ${tlpLabel(from)} to ${tlpLabel(to)}` };
}
