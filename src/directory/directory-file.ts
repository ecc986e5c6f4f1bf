import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import {
  CAPABILITY_PATTERN,
  HANDLE_PATTERN,
  ORG_CODE_PATTERN,
  parseZone,
} from '../commands/values.js';
import { ORGANISATION_KINDS } from '../db/schema/organisations.js';
import { ROLES } from '../db/schema/people.js';

/** A bad directory file: the message starts with `file:line:`. */
export class DirectoryFileError extends Error {
  override readonly name = 'DirectoryFileError';
}

const zone = z.string().refine((tz) => {
  try {
    parseZone(tz);
    return true;
  } catch {
    return false;
  }
}, 'is not an IANA time zone');

export const DirectoryOrganisation = z.strictObject({
  code: z.string().regex(ORG_CODE_PATTERN, 'must be 2 to 10 uppercase letters or digits'),
  name: z.string().trim().min(1).max(120),
  kind: z.enum(ORGANISATION_KINDS),
});
export type DirectoryOrganisation = z.infer<typeof DirectoryOrganisation>;

export const DirectoryPerson = z.strictObject({
  handle: z
    .string()
    .regex(HANDLE_PATTERN, 'must be lowercase letters, digits, dots, dashes or underscores'),
  name: z.string().trim().min(1).max(120),
  org: z.string().regex(ORG_CODE_PATTERN, 'must be an organisation code'),
  role: z.enum(ROLES),
  tz: zone.default('UTC'),
  slack: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,20}$/, 'is not a Slack user id like U024BE7LH')
    .optional(),
  discord: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(/^\d{5,25}$/, 'is not a Discord user id (digits; quote it)'))
    .optional(),
});
export type DirectoryPerson = z.infer<typeof DirectoryPerson>;

export const DirectoryContact = z.strictObject({
  org: z.string().regex(ORG_CODE_PATTERN, 'must be an organisation code'),
  capability: z.string().regex(CAPABILITY_PATTERN, 'must be a tag like incident-response'),
  primary: z.string().regex(HANDLE_PATTERN, 'must be a handle'),
  backups: z.array(z.string().regex(HANDLE_PATTERN, 'must be a handle')).max(10).default([]),
});
export type DirectoryContact = z.infer<typeof DirectoryContact>;

/** An entry of the file and the line it starts on, so later checks can point at it. */
export interface Located<T> {
  value: T;
  line: number;
}

export interface DirectoryFile {
  source: string;
  organisations: Located<DirectoryOrganisation>[];
  people: Located<DirectoryPerson>[];
  contacts: Located<DirectoryContact>[];
}

const SECTIONS = ['organisations', 'people', 'contacts'] as const;

/**
 * Reads and checks a directory file on its own: syntax, fields, duplicates, and references
 * within the file. References to what is already in the database are checked by the import.
 */
export function parseDirectoryFile(text: string, source: string): DirectoryFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const fail = (line: number, message: string): never => {
    throw new DirectoryFileError(`${source}:${line}: ${message}`);
  };
  const lineOf = (node: YamlNode | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;

  const syntax = doc.errors[0];
  if (syntax) {
    // Without prettyErrors the error carries offsets only (`linePos` stays unset): place them.
    const { line, col } = lineCounter.linePos(syntax.pos[0]);
    throw new DirectoryFileError(
      `${source}:${line}:${col}: ${syntax.message.split('\n')[0] ?? 'bad YAML'}`,
    );
  }
  const root = doc.contents;
  if (!isMap(root))
    return fail(
      lineOf(root as YamlNode | null),
      'expected a mapping with organisations, people and contacts',
    );
  const rootMap = root;
  for (const pair of rootMap.items) {
    const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
    if (!(SECTIONS as readonly string[]).includes(key)) {
      fail(
        lineOf(pair.key as YamlNode),
        `unknown section "${key}": expected ${SECTIONS.join(', ')}`,
      );
    }
  }

  function section<S extends z.ZodType>(
    name: (typeof SECTIONS)[number],
    schema: S,
  ): Located<z.infer<S>>[] {
    const node = rootMap.get(name, true) as YamlNode | undefined;
    if (node === undefined || node === null || (node as { value?: unknown }).value === null)
      return [];
    if (!isSeq(node)) return fail(lineOf(node), `${name} must be a list`);
    return node.items.map((item) => {
      const line = lineOf(item as YamlNode);
      const parsed = schema.safeParse((item as YamlNode).toJSON());
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.');
        // Point at the offending field's own line when the item is a mapping.
        const fieldNode =
          isMap(item) && issue?.path[0] !== undefined
            ? item.get(String(issue.path[0]), true)
            : undefined;
        const at = fieldNode ? lineOf(fieldNode as YamlNode) : line;
        const message =
          issue?.code === 'unrecognized_keys'
            ? `unknown field ${issue.keys.join(', ')}`
            : `${field ? `${field} ` : ''}${issue?.message ?? 'invalid'}`;
        return fail(at, `${name} entry: ${message}`);
      }
      return { value: parsed.data, line };
    });
  }

  const file: DirectoryFile = {
    source,
    organisations: section('organisations', DirectoryOrganisation),
    people: section('people', DirectoryPerson),
    contacts: section('contacts', DirectoryContact),
  };

  const once = <T>(what: string, items: Located<T>[], key: (v: T) => string | undefined) => {
    const seen = new Map<string, number>();
    for (const item of items) {
      const k = key(item.value);
      if (k === undefined) continue;
      const first = seen.get(k);
      if (first !== undefined) fail(item.line, `duplicate ${what} ${k} (first on line ${first})`);
      seen.set(k, item.line);
    }
  };
  once('organisation', file.organisations, (o) => o.code);
  once('handle', file.people, (p) => p.handle);
  once('slack id', file.people, (p) => p.slack);
  once('discord id', file.people, (p) => p.discord);
  once('contact list for', file.contacts, (c) => `${c.org} ${c.capability}`);
  for (const c of file.contacts) {
    const all = [c.value.primary, ...c.value.backups];
    const twice = all.find((h, i) => all.indexOf(h) !== i);
    if (twice) fail(c.line, `${c.value.org} ${c.value.capability} lists ${twice} twice`);
  }
  return file;
}
