import fc from 'fast-check';
import { type ParsedCommand, parseCommand } from '../../../src/commands/parse.js';
import {
  anyValidTokens,
  mutatedLine,
  poisonedLine,
  REGISTRY,
  randomLine,
  type TextWorld,
} from './command-text.js';
import { MEMBER_ORG } from './world.js';

/**
 * Who says what. An outsider (someone in no directory) says anything; the directory member
 * (kadri, a delegate of MEMBER_ORG) says only what must change nothing: what the parser
 * refuses, what only reads, what their role forbids, and what names nothing that exists.
 */

/** The subcommands that only read. A read that writes anyway is what the fuzz would catch. */
export const READS = new Set([
  'concord help',
  'concord whoami',
  'org list',
  'poc who',
  'poc list',
  'incident list',
  'incident report',
  'assist list',
  'alert status',
  'forum list',
  'forum actions',
]);

/** What the member's command is, before it runs: used to keep the member's writes out. */
export type Kind = 'refused-by-parser' | 'read' | 'forbidden' | 'writer';

export function parsed(line: string): ParsedCommand | undefined {
  try {
    return parseCommand(line, REGISTRY);
  } catch {
    return undefined;
  }
}

/**
 * How a line fares for the fuzz's member (a delegate of MEMBER_ORG), judged from the parser and
 * the specs' permissions alone: `writer` is a command the member may run that could change
 * something if its values are good.
 */
export function memberKind(line: string): Kind {
  const p = parsed(line);
  if (!p) return 'refused-by-parser';
  if (READS.has(`${p.spec.name} ${p.sub.name}`)) return 'read';
  const permission = p.sub.permission;
  switch (permission.kind) {
    case 'admin':
      return 'forbidden';
    case 'roles':
      return permission.roles.includes('delegate') ? 'writer' : 'forbidden';
    case 'org-member':
      return p.input.string(permission.option) === MEMBER_ORG ? 'writer' : 'forbidden';
    default:
      return 'writer';
  }
}

/** Whether an outsider (someone not in the directory) may run this at all. */
export function openToAnyone(line: string): boolean {
  return parsed(line)?.sub.permission.kind === 'anyone';
}

/** Anything at all, from someone outside the directory: valid, mutated, random, poisoned. */
export const outsiderLine = (w: TextWorld): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: anyValidTokens(w).map((t) => t.join(' ')) },
    { weight: 4, arbitrary: mutatedLine(w) },
    { weight: 2, arbitrary: randomLine },
    { weight: 2, arbitrary: poisonedLine(w) },
  );

/**
 * The directory member's lines: ones that name nothing that exists (`mustRefuse`: the handler
 * must refuse them), and mutated, valid or random ones the parser refuses, that only read, or
 * that the member's role forbids. Never one that could write if it passed.
 */
export const memberLine = (w: TextWorld): fc.Arbitrary<{ line: string; mustRefuse: boolean }> =>
  fc.oneof(
    { weight: 3, arbitrary: poisonedLine(w).map((line) => ({ line, mustRefuse: true })) },
    {
      weight: 4,
      arbitrary: fc
        .oneof(
          mutatedLine(w),
          anyValidTokens(w).map((t) => t.join(' ')),
          randomLine,
        )
        .map((line) => ({ line, kind: memberKind(line) }))
        .filter(({ kind }) => kind !== 'writer')
        .map(({ line, kind }) => ({ line, mustRefuse: kind !== 'read' })),
    },
  );
