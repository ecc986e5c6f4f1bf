import fc from 'fast-check';
import { hostilePiece, hostileToken } from './hostile.js';

/**
 * Mutations of platform payloads, at the level of the JSON tree (a field dropped, retyped,
 * replaced by something strange) and of the bytes on the wire (truncated, spliced, not UTF-8).
 * Both are data for fast-check, so a failing payload shrinks towards the valid one it came from.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Odd values that break code assuming a field's type or range. */
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    ' ',
    '0',
    'null',
    'undefined',
    '[object Object]',
    [],
    {},
    [null],
    [[]],
    { id: null },
    { type: 1 },
    'x'.repeat(5000),
  ),
  hostileToken,
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

export type TreeMutation =
  | { op: 'delete'; at: number }
  | { op: 'set'; at: number; value: Json }
  | { op: 'retype'; at: number }
  | { op: 'add'; at: number; key: string; value: Json }
  | { op: 'wrap'; at: number };

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ op: fc.constant('delete'), at: fc.nat() }) as fc.Arbitrary<TreeMutation>,
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('set'),
      at: fc.nat(),
      value: oddValue,
    }) as fc.Arbitrary<TreeMutation>,
  },
  fc.record({ op: fc.constant('retype'), at: fc.nat() }) as fc.Arbitrary<TreeMutation>,
  fc.record({
    op: fc.constant('add'),
    at: fc.nat(),
    key: fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'type', 'id', ''),
      fc.string({ maxLength: 8 }),
    ),
    value: oddValue,
  }) as fc.Arbitrary<TreeMutation>,
  fc.record({ op: fc.constant('wrap'), at: fc.nat() }) as fc.Arbitrary<TreeMutation>,
);

interface Slot {
  parent: Json[] | { [key: string]: Json };
  key: string | number;
}

/** Every place in the tree that holds a value (the root has none: it is never replaced). */
function slots(value: Json, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((child, i) => {
      out.push({ parent: value, key: i });
      slots(child, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      out.push({ parent: value, key });
      slots(child, out);
    }
  }
  return out;
}

function containers(value: Json, out: (Json[] | { [key: string]: Json })[] = []) {
  if (value !== null && typeof value === 'object') {
    out.push(value);
    for (const child of Array.isArray(value) ? value : Object.values(value)) containers(child, out);
  }
  return out;
}

function retype(value: Json): Json {
  if (typeof value === 'string') return Number.isNaN(Number(value)) ? [value] : Number(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 0;
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  if (value === null) return 'null';
  return Object.values(value);
}

const get = (s: Slot): Json =>
  Array.isArray(s.parent) ? (s.parent[s.key as number] ?? null) : (s.parent[s.key] ?? null);
const put = (s: Slot, value: Json) => {
  if (Array.isArray(s.parent)) s.parent[s.key as number] = value;
  else
    Object.defineProperty(s.parent, s.key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
};

/** Applies tree mutations to a copy of `value`. */
export function mutateTree(value: unknown, mutations: readonly TreeMutation[]): unknown {
  const root = structuredClone(value) as Json;
  for (const m of mutations) {
    if (m.op === 'add') {
      const all = containers(root);
      const target = all[m.at % Math.max(1, all.length)];
      if (!target) continue;
      // A copy: fast-check hands the same constant to many cases, and a tree must not grow into it.
      const value = structuredClone(m.value);
      if (Array.isArray(target)) target.push(value);
      // defineProperty, so that `__proto__` becomes an own key as JSON.parse would make it.
      else
        Object.defineProperty(target, m.key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      continue;
    }
    const all = slots(root);
    const slot = all[m.at % Math.max(1, all.length)];
    if (!slot) continue;
    switch (m.op) {
      case 'delete':
        if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
        else delete slot.parent[slot.key];
        break;
      case 'set':
        put(slot, structuredClone(m.value));
        break;
      case 'retype':
        put(slot, retype(get(slot)));
        break;
      case 'wrap':
        put(slot, [get(slot)]);
        break;
    }
  }
  return root;
}

export type ByteMutation =
  | { op: 'truncate'; at: number }
  | { op: 'splice'; at: number; text: string }
  | { op: 'cut'; at: number; length: number }
  | { op: 'invalidUtf8'; at: number }
  | { op: 'bom' }
  | { op: 'trailing'; text: string };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate'), at: fc.nat() }) as fc.Arbitrary<ByteMutation>,
  fc.record({
    op: fc.constant('splice'),
    at: fc.nat(),
    text: hostileToken,
  }) as fc.Arbitrary<ByteMutation>,
  fc.record({
    op: fc.constant('cut'),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }) as fc.Arbitrary<ByteMutation>,
  fc.record({ op: fc.constant('invalidUtf8'), at: fc.nat() }) as fc.Arbitrary<ByteMutation>,
  fc.record({ op: fc.constant('bom') }) as fc.Arbitrary<ByteMutation>,
  fc.record({
    op: fc.constant('trailing'),
    text: fc.oneof(hostilePiece, fc.constantFrom('}', ']', ',', '&', '=', '%', '%zz', '\u0000')),
  }) as fc.Arbitrary<ByteMutation>,
);

/** Applies byte mutations to a body. */
export function mutateBytes(body: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let bytes = Buffer.from(body);
  for (const m of mutations) {
    const at = 'at' in m ? m.at % (bytes.length + 1) : 0;
    switch (m.op) {
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'splice':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text), bytes.subarray(at)]);
        break;
      case 'cut':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
      case 'invalidUtf8':
        // A lone continuation byte, an overlong NUL and a truncated four-byte sequence.
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from([0x80, 0xc0, 0x80, 0xf0, 0x9f]),
          bytes.subarray(at),
        ]);
        break;
      case 'bom':
        bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
        break;
      case 'trailing':
        bytes = Buffer.concat([bytes, Buffer.from(m.text)]);
        break;
    }
  }
  return bytes;
}

/** JSON nested `depth` levels deep, to find recursion limits (parse, structured clone, walks). */
export function deeplyNested(depth: number, leaf = '1'): string {
  return `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
}

/** `arb` one time in `n`, otherwise undefined. */
export function rarely<T>(n: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: n - 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: arb },
  );
}

/**
 * Gives a case a short description for fast-check's counterexample (instead of every byte of
 * its body): its label, how it is signed, its content type and the start of its body.
 */
export function printable<T extends { label: string; body: Uint8Array }>(value: T): T {
  Object.defineProperty(value, fc.toStringMethod, {
    enumerable: false,
    value: () => {
      const { body, ...rest } = value;
      const text = Buffer.from(body).toString('utf8');
      const shown = text.length > 300 ? `${text.slice(0, 300)}…(${body.length} bytes)` : text;
      return `${JSON.stringify(rest)} body=${JSON.stringify(shown)}`;
    },
  });
  return value;
}
