import fc from 'fast-check';
import { MAX_LINE_LENGTH } from '../../../src/commands/parse.js';
import { concordCommands } from '../../../src/commands/registry.js';
import type { CommandSpec, OptionSpec, SubcommandSpec } from '../../../src/commands/spec.js';
import { hostileToken } from './hostile.js';
import { MEMBER_ORG, type World } from './world.js';

/**
 * Command lines for the fuzz: valid ones built from the registry's specs (so every command and
 * subcommand is covered, and a new one is covered without anyone listing it), mutated at the
 * token and the character level, and hostile strings. References point at the seeded world
 * (`World`) as often as at nothing.
 */

export const REGISTRY = concordCommands();

/** Where each subcommand lives: `/incident open` → its specs. */
export interface Target {
  spec: CommandSpec;
  sub: SubcommandSpec;
}
export const TARGETS: Target[] = REGISTRY.commands.flatMap((spec) =>
  spec.subcommands.map((sub) => ({ spec, sub })),
);

/** Who a world's refs and ids are, plus platform mentions the fuzz may write. */
export interface TextWorld extends World {
  /** Platform mentions of seeded people (`<@U…>`, `<@123…>`), if any. */
  mentions?: string[];
}

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
const freeText = fc.array(word, { minLength: 1, maxLength: 5 }).map((w) => w.join(' '));
const isoDate = fc
  .record({ y: fc.integer({ min: 2027, max: 2031 }), m: fc.integer({ min: 1, max: 12 }) })
  .chain(({ y, m }) =>
    fc
      .integer({ min: 1, max: 28 })
      .map((d) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
  );
const isoDateTime = fc
  .tuple(isoDate, fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([d, h, m]) => `${d}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const duration = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom('s', 'm', 'h', 'd'))
  .map(([n, unit]) => `${n}${unit}`);
const ZONES = ['UTC', 'Europe/Tallinn', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];
const CAPABILITIES = ['incident-response', 'early-warning', 'forensics', 'legal', 'threat-intel'];

/** Refs that name nothing, in the shapes real ones have. */
const bogusRef = (prefix: string) =>
  fc
    .integer({ min: 2090, max: 2099 })
    .chain((y) => fc.integer({ min: 1, max: 99_999 }).map((n) => `${prefix}-${y}-${n}`));

function refArb(option: OptionSpec, spec: CommandSpec, w: TextWorld): fc.Arbitrary<string> {
  const pick = (real: readonly (string | number)[], prefix: string) =>
    fc.oneof(
      real.length ? fc.constantFrom(...real.map(String)) : bogusRef(prefix),
      bogusRef(prefix),
      word,
    );
  if (option.name === 'incident' || (spec.name === 'incident' && option.name === 'ref'))
    return pick(w.incidentRefs, 'INC');
  if (spec.name === 'assist') return pick(w.requestRefs, 'AR');
  if (spec.name === 'alert') return pick(w.alertRefs, 'EW');
  if (spec.name === 'forum' && option.name === 'id') {
    return fc.oneof(
      w.actionIds.length ? fc.constantFrom(...w.actionIds.map(String)) : fc.constant('1'),
      fc.integer({ min: 1000, max: 99_999 }).map(String),
      fc.integer({ min: 1000, max: 99_999 }).map((n) => `#${n}`),
    );
  }
  if (spec.name === 'forum') return pick(w.sessionRefs, 'FS');
  if (spec.name === 'concord') return fc.constantFrom(...REGISTRY.commands.map((c) => c.name));
  if (option.name === 'to') return fc.constantFrom('delegations', 'all', 'industry', 'EST,DEU');
  return word;
}

/** A value the option takes, as typed on a command line (quoted where it has to be). */
export function valueArb(option: OptionSpec, spec: CommandSpec, w: TextWorld) {
  const handles = [...w.handles, 'nobody', 'ghost'];
  const user = fc.oneof(
    fc.constantFrom(...handles).map((h) => `@${h}`),
    ...(w.mentions?.length ? [fc.constantFrom(...w.mentions)] : []),
  );
  const org = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...w.orgs) }, fc.constant('ZZZ'));
  const list = (arb: fc.Arbitrary<string>) =>
    fc.uniqueArray(arb, { minLength: 1, maxLength: 3 }).map((xs) => xs.join(','));
  switch (option.type) {
    case 'text':
      return freeText;
    case 'word':
      return refArb(option, spec, w);
    case 'enum':
      return fc.constantFrom(...(option.choices ?? ['x']));
    case 'user':
      return user;
    case 'users':
      return list(user);
    case 'org':
      return org;
    case 'orgs':
      return list(org);
    case 'capability':
      return fc.constantFrom(...CAPABILITIES);
    case 'datetime':
      return isoDateTime;
    case 'when':
      return fc.oneof(
        isoDateTime,
        duration.map((d) => `+${d}`),
      );
    case 'date':
      return isoDate;
    case 'zone':
      return fc.constantFrom(...ZONES);
    case 'duration':
      return duration;
    case 'durations':
      return list(duration);
    case 'boolean':
      return fc.constantFrom('true', 'false', 'yes', 'no');
  }
}

const quoted = (text: string) => (/[\s"]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text);

/**
 * A valid line for one subcommand: its name, its positional, every required option and some
 * optional ones in any order. Valid in form: whether it passes the handler depends on the world.
 */
export function validTokens(target: Target, w: TextWorld): fc.Arbitrary<string[]> {
  const { spec, sub } = target;
  const head = spec.defaultSubcommand === sub.name ? fc.boolean() : fc.constant(true);
  const positional = sub.positional
    ? sub.positional.required
      ? valueArb(sub.positional, spec, w).map((v) => [v])
      : fc.option(valueArb(sub.positional, spec, w), { nil: undefined }).map((v) => (v ? [v] : []))
    : fc.constant([] as string[]);
  const options = sub.options.map((option) => {
    const token = valueArb(option, spec, w).map((v) => `${option.name}:${quoted(v)}`);
    return option.required
      ? token.map((t) => [t])
      : fc.option(token, { nil: undefined }).map((t) => (t ? [t] : []));
  });
  return fc
    .tuple(head, positional, fc.tuple(...options), fc.nat())
    .map(([withName, pos, opts, order]) => {
      const flat = opts.flat();
      // A stable shuffle driven by one number, so that shrinking it restores the spec's order.
      const rotated = flat.length
        ? [...flat.slice(order % flat.length), ...flat.slice(0, order % flat.length)]
        : flat;
      return [`/${spec.name}`, ...(withName ? [sub.name] : []), ...pos, ...rotated];
    });
}

/** A valid line for any subcommand (one arbitrary per subcommand, built once per world). */
export const anyValidTokens = (w: TextWorld) =>
  fc.oneof(...TARGETS.map((target) => validTokens(target, w)));

type Mutation =
  | { op: 'drop' | 'dup' | 'unkey' | 'emptyValue' | 'unquote' | 'openQuote'; at: number }
  | { op: 'swap'; at: number; other: number }
  | { op: 'insert' | 'replace' | 'rekey' | 'revalue'; at: number; text: string }
  | { op: 'chars'; at: number; text: string }
  | { op: 'cut'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'case'; upper: boolean }
  | { op: 'long'; extra: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constantFrom('drop', 'dup', 'unkey', 'emptyValue', 'unquote', 'openQuote'),
    at: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ op: fc.constant('swap'), at: fc.nat(), other: fc.nat() }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constantFrom('insert', 'replace', 'rekey', 'revalue'),
    at: fc.nat(),
    text: hostileToken,
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constant('chars'),
    at: fc.nat(),
    text: hostileToken,
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constant('cut'),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 6 }),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ op: fc.constant('truncate'), at: fc.nat() }) as fc.Arbitrary<Mutation>,
  fc.record({ op: fc.constant('case'), upper: fc.boolean() }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constant('long'),
    extra: fc.integer({ min: -2, max: 2 }),
  }) as fc.Arbitrary<Mutation>,
);

/** Applies a mutation to a line's tokens (token operations) or to the joined line (the rest). */
function mutate(tokens: string[], m: Mutation): string[] {
  const t = [...tokens];
  const i = t.length ? ('at' in m ? m.at % t.length : 0) : 0;
  const line = t.join(' ');
  const c = 'at' in m ? m.at % (line.length + 1) : 0;
  switch (m.op) {
    case 'drop':
      t.splice(i, 1);
      return t;
    case 'dup':
      t.splice(i, 0, t[i] ?? '');
      return t;
    case 'swap': {
      const j = t.length ? m.other % t.length : 0;
      [t[i], t[j]] = [t[j] ?? '', t[i] ?? ''];
      return t;
    }
    case 'insert':
      t.splice(i, 0, m.text);
      return t;
    case 'replace':
      t[i] = m.text;
      return t;
    case 'rekey': {
      const token = t[i] ?? '';
      const colon = token.indexOf(':');
      t[i] = `${m.text.replace(/\s/g, '')}:${colon >= 0 ? token.slice(colon + 1) : token}`;
      return t;
    }
    case 'revalue': {
      const token = t[i] ?? '';
      const colon = token.indexOf(':');
      t[i] = colon >= 0 ? `${token.slice(0, colon + 1)}${m.text}` : m.text;
      return t;
    }
    case 'unkey':
      t[i] = (t[i] ?? '').replace(':', ' ');
      return t;
    case 'emptyValue':
      t[i] = (t[i] ?? '').replace(/:.*$/s, ':');
      return t;
    case 'unquote':
      return t.map((token) => token.replace(/"/g, ''));
    case 'openQuote':
      t[i] = `"${t[i] ?? ''}`;
      return t;
    case 'chars':
      return [line.slice(0, c) + m.text + line.slice(c)];
    case 'cut':
      return [line.slice(0, c) + line.slice(c + m.length)];
    case 'truncate':
      return [line.slice(0, c)];
    case 'case':
      return [m.upper ? line.toUpperCase() : line.toLowerCase()];
    case 'long': {
      // Around the parser's limit, either side of it.
      const target = MAX_LINE_LENGTH + m.extra;
      const padded = `${line} ${'x'.repeat(Math.max(0, target - line.length - 1))}`;
      return [padded.slice(0, Math.max(line.length, target))];
    }
  }
}

/** A valid line with one to three mutations. */
export const mutatedLine = (w: TextWorld) =>
  fc
    .tuple(anyValidTokens(w), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([tokens, mutations]) => mutations.reduce(mutate, tokens).join(' '));

/** Lines from nowhere: random text, text that starts like a command, known names with garbage. */
export const randomLine: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(hostileToken, { maxLength: 8 }).map((t) => `/${t.join(' ')}`),
  fc
    .tuple(fc.constantFrom(...TARGETS), fc.array(hostileToken, { maxLength: 6 }))
    .map(([{ spec, sub }, rest]) => [`/${spec.name}`, sub.name, ...rest].join(' ')),
);

/**
 * Lines the member may run that are valid in form but must be refused by the handler: each
 * names something that does not exist (an incident, a request, an action, a person, an
 * organisation) or comes from a channel that is no incident's. The rest of the line is random.
 */
export const poisonedLine = (w: TextWorld): fc.Arbitrary<string> => {
  const tokensFor = (command: string, sub: string) => {
    const target = TARGETS.find((t) => t.spec.name === command && t.sub.name === sub);
    if (!target) throw new Error(`no /${command} ${sub}`);
    return validTokens(target, w);
  };
  /** Sets option `name` to `value` (replacing it, or adding it). */
  const withOption = (tokens: string[], name: string, value: string) => [
    ...tokens.filter((t) => !t.startsWith(`${name}:`)),
    `${name}:${value}`,
  ];
  const without = (tokens: string[], name: string) =>
    tokens.filter((t) => !t.startsWith(`${name}:`));
  const unknownOrg = fc.constantFrom('ZZZ', 'NOPE', 'XX1');
  const incidentOps = ['update', 'status', 'lead', 'invite', 'close'].map((sub) =>
    fc
      .tuple(tokensFor('incident', sub), fc.option(bogusRef('INC'), { nil: undefined }))
      .map(([tokens, ref]) =>
        ref ? withOption(tokens, 'incident', ref) : without(tokens, 'incident'),
      ),
  );
  return fc
    .oneof(
      ...incidentOps,
      fc
        .tuple(tokensFor('incident', 'open'), unknownOrg)
        .map(([t, code]) => withOption(t, 'orgs', `EST,${code}`)),
      fc
        .tuple(tokensFor('assist', 'request'), unknownOrg)
        .map(([t, code]) => withOption(t, 'to', code)),
      fc
        .tuple(tokensFor('assist', 'request'), bogusRef('INC'))
        .map(([t, ref]) => withOption(t, 'incident', ref)),
      fc
        .tuple(tokensFor('assist', 'close'), bogusRef('AR'))
        .map(([t, ref]) => [
          t[0] ?? '',
          t[1] ?? '',
          ref,
          ...t.slice(3).filter((x) => x.includes(':')),
        ]),
      fc
        .tuple(tokensFor('alert', 'send'), unknownOrg)
        .map(([t, code]) => withOption(t, 'to', code)),
      fc
        .tuple(tokensFor('poc', 'set'), fc.constantFrom('@nobody', '@ghost'))
        .map(([t, who]) => [...withOption(withOption(t, 'org', MEMBER_ORG), 'backup', who)]),
      fc
        .tuple(tokensFor('poc', 'remove'), fc.constantFrom('@nobody', '@ghost'))
        .map(([t, who]) => ['/poc', 'remove', who, ...withOption(t, 'org', MEMBER_ORG).slice(3)]),
      fc.integer({ min: 10_000, max: 99_999 }).map((id) => ['/forum', 'done', String(id)]),
    )
    .map((tokens) => tokens.join(' '));
};
