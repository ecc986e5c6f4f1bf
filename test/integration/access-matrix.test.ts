import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelRef, type MessageRef, userRef } from '../../src/chat/refs.js';
import { concordCommands } from '../../src/commands/registry.js';
import { organisations, routings } from '../../src/db/schema/index.js';
import { ACCEPT, ACKNOWLEDGE, CLOSE, DECLINE } from '../../src/domain/routing/cards.js';
import { makeTestCore, type TestCore } from '../support/core.js';

// Who may do what: every subcommand in the registry, and every button on a card, against each
// kind of person, on a real database. A refused cell gets a one-line `forbidden` answer and
// changes no table; an allowed cell gets past every permission check (and, with the fixtures
// here, succeeds). The expectations are written out by hand, not read from the specs, so that
// loosening a spec's permission makes a cell fail.

const ACTORS = ['admin', 'organiser', 'delegate', 'liaison', 'outsider'] as const;
type Actor = (typeof ACTORS)[number];

const EVERYONE: readonly Actor[] = ACTORS;
const MEMBERS: readonly Actor[] = ['admin', 'organiser', 'delegate', 'liaison'];
const ORGANISERS: readonly Actor[] = ['admin', 'organiser'];
const ADMINS: readonly Actor[] = ['admin'];

/**
 * Each actor's directory handle, organisation and a colleague there. `ada` holds the admin role
 * in the directory (not the bootstrap list); `stranger` is not in the directory, and stands
 * for EST where a case needs "their" organisation.
 */
const CAST: Record<Actor, { handle: string; org: string; colleague: string }> = {
  admin: { handle: 'ada', org: 'HQ', colleague: 'hana' },
  organiser: { handle: 'olga', org: 'HQ', colleague: 'hana' },
  delegate: { handle: 'kadri', org: 'EST', colleague: 'kaja' },
  liaison: { handle: 'bob', org: 'ACME', colleague: 'carl' },
  outsider: { handle: 'stranger', org: 'EST', colleague: 'kaja' },
};
/** Another organisation and two of its people: DEU is no actor's own (admins aside). */
const OTHER = { org: 'DEU', member: 'nora', colleague: 'nils' };

/** What an actor attempts: a command line, or a button on a card. */
type Attempt = { line: string } | { button: string; value: string };

interface Case {
  /** What sets this case apart from the others of its subcommand. */
  variant?: string;
  allowed: readonly Actor[];
  /** Makes what the attempt acts on (as other people), then says what `actor` attempts. */
  attempt(actor: Actor): Promise<Attempt> | Attempt;
}

let t: TestCore;
let seq = 0;
const next = () => ++seq;

/** Runs a line as someone (the bootstrap admin by default) and insists it worked. */
async function setUp(line: string, as?: string): Promise<string> {
  const reply = await t.run(line, as);
  if (reply.text.startsWith('⚠') || reply.text.startsWith('Sorry'))
    throw new Error(`setting up "${line}" as ${as ?? 'operator'} failed: ${reply.text}`);
  return reply.message.title ?? '';
}

const refIn = (title: string, prefix: string) => {
  const ref = new RegExp(`${prefix}-\\d+-\\d+`).exec(title)?.[0];
  if (!ref) throw new Error(`no ${prefix} ref in "${title}"`);
  return ref;
};

/** An incident opened by DEU's nora, with `actor` invited into it when `invite` says so. */
async function incident(options: { invite?: Actor; tlp?: string; orgs?: string } = {}) {
  const extra = `${options.tlp ? ` tlp:${options.tlp}` : ''}${options.orgs ? ` orgs:${options.orgs}` : ''}`;
  const ref = refIn(await setUp(`/incident open Outage ${next()}${extra}`, OTHER.member), 'INC');
  if (options.invite && options.invite !== 'outsider')
    await setUp(`/incident invite @${CAST[options.invite].handle} incident:${ref}`, OTHER.member);
  return ref;
}

const request = async (as: string, to: string) =>
  refIn(await setUp(`/assist request Need eyes ${next()} capability:forensics to:${to}`, as), 'AR');
const alert = async (as: string, to: string) =>
  refIn(await setUp(`/alert Phishing wave ${next()} to:${to}`, as), 'EW');
const session = async () =>
  refIn(await setUp(`/forum schedule Plenary ${next()} at:2027-03-01T10:00 tz:UTC`), 'FS');
async function action(owner: string) {
  const title = await setUp(
    `/forum action ${await session()} Send the minutes owner:@${owner} due:2027-03-05`,
  );
  return /#(\d+)/.exec(title)?.[1] ?? '';
}

async function routingFor(ref: string, org: string) {
  const [row] = await t.db
    .select({ id: routings.id })
    .from(routings)
    .innerJoin(organisations, eq(organisations.id, routings.orgId))
    .where(
      and(
        eq(organisations.code, org),
        sql`coalesce(
          (select ref from assist_requests where id = ${routings.requestId}),
          (select ref from alerts where id = ${routings.alertId})
        ) = ${ref}`,
      ),
    );
  if (!row) throw new Error(`no routing of ${ref} for ${org}`);
  return String(row.id);
}

/** The five changes an incident's people (and admins) may make, and nobody else. */
function incidentChange(line: (ref: string) => string): Case[] {
  return [
    {
      variant: 'in the incident',
      allowed: MEMBERS,
      attempt: async (actor) => ({ line: line(await incident({ invite: actor })) }),
    },
    {
      variant: 'not in the incident',
      allowed: ADMINS,
      attempt: async () => ({ line: line(await incident()) }),
    },
  ];
}

/** Expected permissions of every subcommand, keyed `command subcommand`. */
const EXPECTED: Record<string, readonly Case[]> = {
  'concord help': [{ allowed: EVERYONE, attempt: () => ({ line: '/concord help incident' }) }],
  'concord whoami': [{ allowed: EVERYONE, attempt: () => ({ line: '/concord whoami' }) }],

  'org add': [
    { allowed: ADMINS, attempt: () => ({ line: `/org add X${next()} name:"New" kind:industry` }) },
  ],
  'org member': [
    {
      allowed: ADMINS,
      attempt: () => ({ line: `/org member @new${next()} org:EST role:delegate` }),
    },
  ],
  'org inbox': [
    {
      variant: 'their own organisation',
      allowed: MEMBERS,
      attempt: (actor) => ({ line: `/org inbox org:${CAST[actor].org}` }),
    },
    {
      variant: 'another organisation',
      allowed: ADMINS,
      attempt: () => ({ line: `/org inbox org:${OTHER.org}` }),
    },
  ],
  'org list': [{ allowed: MEMBERS, attempt: () => ({ line: '/org list' }) }],

  'poc set': [
    {
      variant: 'their own organisation',
      allowed: MEMBERS,
      attempt: (actor) => ({
        line: `/poc set org:${CAST[actor].org} capability:c${next()} @${CAST[actor].colleague}`,
      }),
    },
    {
      variant: 'another organisation',
      allowed: ADMINS,
      attempt: () => ({ line: `/poc set org:${OTHER.org} capability:c${next()} @${OTHER.member}` }),
    },
  ],
  'poc who': [{ allowed: MEMBERS, attempt: () => ({ line: '/poc who forensics' }) }],
  'poc list': [{ allowed: MEMBERS, attempt: () => ({ line: '/poc list' }) }],
  'poc remove': [
    {
      variant: 'their own organisation',
      allowed: MEMBERS,
      attempt: async (actor) => {
        const { org, colleague } = CAST[actor];
        const capability = `c${next()}`;
        await setUp(`/poc set org:${org} capability:${capability} @${colleague}`);
        return { line: `/poc remove org:${org} capability:${capability} @${colleague}` };
      },
    },
    {
      variant: 'another organisation',
      allowed: ADMINS,
      attempt: async () => {
        const capability = `c${next()}`;
        await setUp(`/poc set org:${OTHER.org} capability:${capability} @${OTHER.member}`);
        return { line: `/poc remove org:${OTHER.org} capability:${capability} @${OTHER.member}` };
      },
    },
  ],
  // Every actor in the directory holds a `legal` contact role, so there is something to confirm.
  'poc confirm': [{ allowed: MEMBERS, attempt: () => ({ line: '/poc confirm' }) }],

  'incident open': [
    { allowed: MEMBERS, attempt: () => ({ line: `/incident open Outage ${next()}` }) },
  ],
  'incident update': incidentChange((ref) => `/incident update Contained incident:${ref}`),
  'incident status': incidentChange((ref) => `/incident status stable incident:${ref}`),
  'incident lead': incidentChange((ref) => `/incident lead @${OTHER.member} incident:${ref}`),
  'incident invite': incidentChange(
    (ref) => `/incident invite @${OTHER.colleague} incident:${ref}`,
  ),
  'incident close': incidentChange((ref) => `/incident close Restored incident:${ref}`),
  'incident list': [{ allowed: MEMBERS, attempt: () => ({ line: '/incident list all' }) }],
  'incident report': [
    {
      variant: 'in the incident',
      allowed: MEMBERS,
      attempt: async (actor) => ({ line: `/incident report ${await incident({ invite: actor })}` }),
    },
    {
      variant: 'their organisation is a party',
      allowed: MEMBERS,
      attempt: async (actor) => ({
        line: `/incident report ${await incident({ orgs: CAST[actor].org })}`,
      }),
    },
    {
      variant: 'not a party',
      allowed: ADMINS,
      attempt: async () => ({ line: `/incident report ${await incident()}` }),
    },
    {
      variant: 'TLP:RED, in the incident',
      allowed: MEMBERS,
      attempt: async (actor) => ({
        line: `/incident report ${await incident({ tlp: 'red', invite: actor })}`,
      }),
    },
    {
      variant: 'TLP:RED, their organisation is a party',
      allowed: ADMINS,
      attempt: async (actor) => ({
        line: `/incident report ${await incident({ tlp: 'red', orgs: CAST[actor].org })}`,
      }),
    },
  ],

  'assist request': [
    {
      variant: 'to another organisation',
      allowed: MEMBERS,
      attempt: () => ({ line: `/assist request Need eyes capability:forensics to:${OTHER.org}` }),
    },
    {
      variant: 'about an incident of other parties',
      allowed: ADMINS,
      attempt: async () => ({
        line: `/assist request Need eyes capability:forensics to:${OTHER.org} incident:${await incident()}`,
      }),
    },
  ],
  'assist list': [{ allowed: MEMBERS, attempt: () => ({ line: '/assist list' }) }],
  'assist close': [
    {
      variant: 'their own request',
      allowed: MEMBERS,
      attempt: async (actor) => {
        const as = actor === 'outsider' ? OTHER.member : CAST[actor].handle;
        return { line: `/assist close ${await request(as, OTHER.org)}` };
      },
    },
    {
      variant: 'a colleague’s request',
      allowed: MEMBERS,
      attempt: async (actor) => ({
        line: `/assist close ${await request(CAST[actor].colleague, OTHER.org)}`,
      }),
    },
    {
      variant: 'another organisation’s request',
      allowed: ADMINS,
      attempt: async () => ({ line: `/assist close ${await request(OTHER.member, OTHER.org)}` }),
    },
  ],

  'alert send': [
    { allowed: MEMBERS, attempt: () => ({ line: `/alert Phishing wave to:${OTHER.org}` }) },
  ],
  'alert status': [
    {
      variant: 'sent by their organisation',
      allowed: MEMBERS,
      attempt: async (actor) => ({
        line: `/alert status ${await alert(CAST[actor].colleague, OTHER.org)}`,
      }),
    },
    {
      variant: 'addressed to their organisation',
      allowed: MEMBERS,
      attempt: async (actor) => ({
        line: `/alert status ${await alert(OTHER.member, CAST[actor].org)}`,
      }),
    },
    {
      variant: 'neither sent by nor addressed to their organisation',
      allowed: ADMINS,
      attempt: async () => ({ line: `/alert status ${await alert(OTHER.member, OTHER.org)}` }),
    },
  ],

  'forum schedule': [
    {
      allowed: ORGANISERS,
      attempt: () => ({ line: `/forum schedule Plenary ${next()} at:2027-03-01T10:00 tz:UTC` }),
    },
  ],
  'forum list': [{ allowed: MEMBERS, attempt: () => ({ line: '/forum list' }) }],
  'forum cancel': [
    { allowed: ORGANISERS, attempt: async () => ({ line: `/forum cancel ${await session()}` }) },
  ],
  'forum action': [
    {
      allowed: ORGANISERS,
      attempt: async () => ({
        line: `/forum action ${await session()} Send the minutes owner:@${OTHER.member} due:2027-03-05`,
      }),
    },
  ],
  'forum done': [
    {
      variant: 'their own action',
      allowed: MEMBERS,
      attempt: async (actor) => {
        const owner = actor === 'outsider' ? OTHER.member : CAST[actor].handle;
        return { line: `/forum done ${await action(owner)}` };
      },
    },
    {
      variant: 'someone else’s action',
      allowed: ORGANISERS,
      attempt: async () => ({ line: `/forum done ${await action(OTHER.member)}` }),
    },
  ],
  'forum actions': [{ allowed: MEMBERS, attempt: () => ({ line: '/forum actions' }) }],
};

/** A card button pressed on a request or warning addressed to one organisation or another. */
function cardButton(button: string, send: (to: string) => Promise<string>): Case[] {
  const press = async (to: string) => ({ button, value: await routingFor(await send(to), to) });
  return [
    {
      variant: 'card for their organisation',
      allowed: MEMBERS,
      attempt: (actor) => press(CAST[actor].org),
    },
    { variant: 'card for another organisation', allowed: ADMINS, attempt: () => press(OTHER.org) },
  ];
}

const BUTTONS: Record<string, readonly Case[]> = {
  [ACCEPT]: cardButton(ACCEPT, (to) => request(OTHER.member, to)),
  [DECLINE]: cardButton(DECLINE, (to) => request(OTHER.member, to)),
  [ACKNOWLEDGE]: cardButton(ACKNOWLEDGE, (to) => alert(OTHER.member, to)),
  [CLOSE]: [
    {
      variant: 'their organisation’s request',
      allowed: MEMBERS,
      attempt: async (actor) => ({
        button: CLOSE,
        value: await request(CAST[actor].colleague, OTHER.org),
      }),
    },
    {
      variant: 'another organisation’s request',
      allowed: ADMINS,
      attempt: async () => ({ button: CLOSE, value: await request(OTHER.member, OTHER.org) }),
    },
  ],
};

/** The rows of a raw query, whichever driver answered it. */
const rowsOf = <T>(result: unknown): T[] =>
  (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

/** Row counts of every table but the inbound-delivery log (a button press is recorded there). */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = rowsOf<{ name: string }>(
    await t.db.execute(
      sql`select table_name as name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE'
            and table_name <> 'inbound_deliveries' order by 1`,
    ),
  );
  const counts = sql.join(
    tables.map(
      ({ name }) =>
        sql`(select count(*)::int from ${sql.identifier(name)}) as ${sql.identifier(name)}`,
    ),
    sql`, `,
  );
  const [row] = rowsOf<Record<string, number>>(await t.db.execute(sql`select ${counts}`));
  return { ...row };
}

/** The outcome label the command counter got: `ok`, or a ConcordError code. */
async function countedOutcomes(): Promise<Map<string, number>> {
  const metric = await t.metrics.commands.get();
  return new Map(metric.values.map((v) => [`${v.labels.command}|${v.labels.outcome}`, v.value]));
}

/** Does what `attempt` says as `actor`; the reply's title and the outcome it was counted as. */
async function perform(actor: Actor, attempt: Attempt) {
  const before = await countedOutcomes();
  const user = userRef('shell', CAST[actor].handle);
  const reply =
    'line' in attempt
      ? await t.run(attempt.line, user)
      : await t.core.inbound.action({
          deliveryKey: `press-${next()}`,
          user,
          channel: channelRef('shell', '#general'),
          message: 'shell:#general/1' as MessageRef,
          action: attempt.button,
          value: attempt.value,
        });
  const after = await countedOutcomes();
  const counted = [...after].filter(([key, n]) => n > (before.get(key) ?? 0));
  // A button that works counts nothing; everything else counts exactly one outcome.
  const outcome = counted.length === 0 ? 'ok' : (counted[0]?.[0].split('|')[1] ?? 'unknown');
  return { title: reply?.message.title ?? '', outcome };
}

/** One cell: allowed ones get past every check; refused ones get one line and change nothing. */
async function checkCell(c: Case, actor: Actor) {
  const attempt = await c.attempt(actor);
  const before = await rowCounts();
  const { title, outcome } = await perform(actor, attempt);
  if (c.allowed.includes(actor)) {
    expect(outcome, title).toBe('ok');
    return;
  }
  expect(outcome, title).toBe('forbidden');
  expect(title).toMatch(/^⚠ [^\n]+$/);
  expect(await rowCounts()).toEqual(before);
  // Refused at the door, someone outside the directory is told how to get in.
  if (actor === 'outsider' && 'line' in attempt) expect(title).toContain('/org member');
}

/** One cell per actor, named `delegate: refused`. */
const cellsOf = (c: Case) =>
  ACTORS.map((actor) => [actor, c.allowed.includes(actor) ? 'allowed' : 'refused'] as const);
const caseName = (name: string, c: Case) => `${name}${c.variant ? ` (${c.variant})` : ''}`;

beforeAll(async () => {
  t = await makeTestCore();
  const setup = [
    '/org add HQ name:"Forum secretariat" kind:organiser',
    '/org add EST name:"Estonia" kind:delegation',
    '/org add ACME name:"Acme Security" kind:industry',
    '/org add DEU name:"Germany" kind:delegation',
    '/org member @ada org:HQ role:admin name:"Ada Admin"',
    '/org member @olga org:HQ role:organiser name:"Olga Organiser"',
    '/org member @hana org:HQ role:delegate name:"Hana HQ"',
    '/org member @kadri org:EST role:delegate name:"Kadri Tamm"',
    '/org member @kaja org:EST role:delegate name:"Kaja Kask"',
    '/org member @bob org:ACME role:liaison name:"Bob Stone"',
    '/org member @carl org:ACME role:liaison name:"Carl Diaz"',
    '/org member @nora org:DEU role:delegate name:"Nora Vogel"',
    '/org member @nils org:DEU role:delegate name:"Nils Berg"',
    '/poc set org:HQ capability:legal @ada backup:@olga',
    '/poc set org:EST capability:legal @kadri',
    '/poc set org:ACME capability:legal @bob',
  ];
  // Each organisation's forensics and early-warning cards go to the actors' colleagues.
  for (const [org, contact] of [
    ['HQ', 'hana'],
    ['EST', 'kaja'],
    ['ACME', 'carl'],
    [OTHER.org, OTHER.member],
  ]) {
    setup.push(`/poc set org:${org} capability:forensics @${contact}`);
    setup.push(`/poc set org:${org} capability:early-warning @${contact}`);
  }
  for (const line of setup) await setUp(line);
});
afterAll(() => t.close());

describe('the matrix covers the registry', () => {
  const registered = concordCommands().commands.flatMap((spec) =>
    spec.subcommands.map((sub) => `${spec.name} ${sub.name}`),
  );

  it('has expected permissions for no subcommand the registry lacks', () => {
    expect(Object.keys(EXPECTED).filter((key) => !registered.includes(key))).toEqual([]);
  });

  // A new subcommand shows up here as a failing cell until its row is written.
  it.each(registered)('/%s has a row of expected permissions', (key) => {
    expect(EXPECTED[key], `add "${key}" to EXPECTED`).toBeDefined();
  });
});

describe.each(
  concordCommands().commands.flatMap((spec) =>
    spec.subcommands.flatMap((sub) =>
      (EXPECTED[`${spec.name} ${sub.name}`] ?? []).map(
        (c) => [caseName(`/${spec.name} ${sub.name}`, c), c] as const,
      ),
    ),
  ),
)('%s', (_name, c) => {
  it.each(cellsOf(c))('%s: %s', (actor) => checkCell(c, actor));
});

describe.each(
  Object.entries(BUTTONS).flatMap(([button, cases]) =>
    cases.map((c) => [caseName(`button ${button}`, c), c] as const),
  ),
)('%s', (_name, c) => {
  it.each(cellsOf(c))('%s: %s', (actor) => checkCell(c, actor));
});
