import { describe, expect, it } from 'vitest';
import { TLP_LEVELS, type TlpLevel } from '../../src/chat/message.js';
import {
  type Audience,
  type Destination,
  mayChangeLevel,
  mayDeliver,
  needsPrivateChannel,
  tlpRank,
} from '../../src/tlp/rules.js';

// The request is between EST and ACME; people 1 (EST) and 2 (ACME) are named for TLP:RED.
const audience: Audience = { parties: ['EST', 'ACME'], named: [1, 2] };

const destinations: Record<string, Destination> = {
  'DM to someone outside the directory': { kind: 'direct', person: null },
  'DM to a party, not named': { kind: 'direct', person: { id: 3, org: 'EST' } },
  'DM to a party, named': { kind: 'direct', person: { id: 1, org: 'EST' } },
  'DM to a non-party': { kind: 'direct', person: { id: 4, org: 'DEU' } },
  'DM to a non-party, named': { kind: 'direct', person: { id: 2, org: 'DEU' } },
  'DM to someone without an organisation': { kind: 'direct', person: { id: 5, org: null } },
  'unregistered public channel': { kind: 'channel', registered: false, private: false, orgs: [] },
  'unregistered private channel': {
    kind: 'channel',
    registered: false,
    private: true,
    orgs: ['EST'],
  },
  "a party's public channel": {
    kind: 'channel',
    registered: true,
    private: false,
    orgs: ['EST'],
    members: [1],
  },
  "a party's private channel, someone not named in it": {
    kind: 'channel',
    registered: true,
    private: true,
    orgs: ['EST'],
    members: [1, 3],
  },
  'private channel shared by two parties': {
    kind: 'channel',
    registered: true,
    private: true,
    orgs: ['EST', 'ACME'],
  },
  'private channel with a party and an outsider': {
    kind: 'channel',
    registered: true,
    private: true,
    orgs: ['EST', 'DEU'],
    members: [1, 4],
  },
  'private channel of named members only': {
    kind: 'channel',
    registered: true,
    private: true,
    orgs: ['EST'],
    members: [1],
  },
  "a party's private channel, members unknown": {
    kind: 'channel',
    registered: true,
    private: true,
    orgs: ['EST'],
  },
};

//                                                        clear  green  amber  strict red
const expected: Record<string, [boolean, boolean, boolean, boolean, boolean]> = {
  'DM to someone outside the directory': [true, false, false, false, false],
  'DM to a party, not named': [true, true, true, true, false],
  'DM to a party, named': [true, true, true, true, true],
  'DM to a non-party': [true, true, false, false, false],
  'DM to a non-party, named': [true, true, false, false, true],
  'DM to someone without an organisation': [true, true, false, false, false],
  'unregistered public channel': [true, false, false, false, false],
  'unregistered private channel': [true, false, false, false, false],
  "a party's public channel": [true, true, false, false, false],
  "a party's private channel, someone not named in it": [true, true, true, true, false],
  'private channel shared by two parties': [true, true, true, false, false],
  'private channel with a party and an outsider': [true, true, false, false, false],
  'private channel of named members only': [true, true, true, true, true],
  "a party's private channel, members unknown": [true, true, true, true, false],
};

describe('TLP delivery rules: every level against every kind of destination', () => {
  it('the table covers every destination and every level', () => {
    expect(Object.keys(expected).sort()).toEqual(Object.keys(destinations).sort());
    expect(TLP_LEVELS).toEqual(['clear', 'green', 'amber', 'amber+strict', 'red']);
  });

  for (const [name, destination] of Object.entries(destinations)) {
    TLP_LEVELS.forEach((level, i) => {
      const allowed = expected[name]?.[i];
      it(`${level} → ${name}: ${allowed ? 'delivered' : 'refused'}`, () => {
        const verdict = mayDeliver(level, destination, audience);
        expect(verdict.ok).toBe(allowed);
        if (!verdict.ok) {
          expect(verdict.reason.startsWith(`TLP:${level.toUpperCase()} `)).toBe(true);
          expect(verdict.reason).not.toContain('\n');
        }
      });
    });
  }

  it('names the outsiders when amber would reach them', () => {
    const verdict = mayDeliver(
      'amber',
      destinations['private channel with a party and an outsider'] as Destination,
      audience,
    );
    expect(verdict).toEqual({
      ok: false,
      reason: 'TLP:AMBER goes only to the organisations party to it, not DEU',
    });
  });

  it('tells amber+strict to use per-organisation threads instead of a shared channel', () => {
    const verdict = mayDeliver(
      'amber+strict',
      destinations['private channel shared by two parties'] as Destination,
      audience,
    );
    expect(verdict.ok ? '' : verdict.reason).toMatch(
      /shared by several organisations; use one thread per organisation$/,
    );
  });
});

describe('changing a level: raising is open to every party, lowering only to the originator', () => {
  const who = {
    originator: { isOriginator: true, isParty: true },
    party: { isOriginator: false, isParty: true },
    outsider: { isOriginator: false, isParty: false },
  };
  for (const from of TLP_LEVELS) {
    for (const to of TLP_LEVELS) {
      for (const [name, changer] of Object.entries(who)) {
        const raising = tlpRank(to) > tlpRank(from);
        const lowering = tlpRank(to) < tlpRank(from);
        const allowed =
          from === to || (raising && name !== 'outsider') || (lowering && name === 'originator');
        it(`${from} → ${to} by ${name}: ${allowed ? 'allowed' : 'refused'}`, () => {
          expect(mayChangeLevel(from as TlpLevel, to as TlpLevel, changer).ok).toBe(allowed);
        });
      }
    }
  }

  it('says who may lower it', () => {
    expect(mayChangeLevel('red', 'amber', who.party)).toEqual({
      ok: false,
      reason: 'only the originator may lower TLP:RED to TLP:AMBER',
    });
  });
});

describe('needsPrivateChannel', () => {
  it('agrees with mayDeliver: a level needs a private channel exactly when a public one is refused', () => {
    for (const level of TLP_LEVELS) {
      const publicChannel = {
        kind: 'channel',
        registered: true,
        private: false,
        orgs: ['EST'],
        members: [1],
      } as const;
      const refused = !mayDeliver(level, publicChannel, { parties: ['EST'], named: [1] }).ok;
      expect(needsPrivateChannel(level), level).toBe(refused);
    }
  });
});
