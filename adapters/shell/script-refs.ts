/**
 * Names a script can use for what it created, so it runs in any year and on any data directory:
 * `$AR` is the newest request reference Concord showed in this session, `$AR1` the first, `$AR2`
 * the second, and likewise `$EW` (early warnings), `$INC` (incidents) and `$FS` (forum sessions).
 * "Shown" means in a card or post, or in an answer that is not a refusal, in order of first
 * appearance: in a script on a fresh data directory, `$AR2` is the second request it made.
 */
export const REF_KINDS = ['AR', 'EW', 'INC', 'FS'] as const;
export type RefKind = (typeof REF_KINDS)[number];

const SEEN = /(?<![A-Za-z0-9-])(AR|EW|INC|FS)-\d{4}-\d+(?![A-Za-z0-9])/g;
const NAMED = /\$(AR|EW|INC|FS)(\d*)(?![A-Za-z0-9_])/g;

export class ScriptRefs {
  private readonly seen = new Map<RefKind, string[]>(REF_KINDS.map((k) => [k, []]));

  /** Notes every reference in `text` not seen before. */
  see(text: string): void {
    for (const match of text.matchAll(SEEN)) {
      const list = this.seen.get(match[1] as RefKind);
      if (list && !list.includes(match[0])) list.push(match[0]);
    }
  }

  /**
   * The line with each `$AR`, `$AR2`… replaced by its reference, or the reason one has none.
   * @example expand('press Accept $AR') // { line: 'press Accept AR-2026-1' }
   */
  expand(line: string): { line: string } | { error: string } {
    let error: string | undefined;
    const expanded = line.replace(NAMED, (name, kind: RefKind, nth: string) => {
      const list = this.seen.get(kind) ?? [];
      const ref = nth === '' ? list.at(-1) : list[Number(nth) - 1];
      if (ref) return ref;
      error ??=
        nth === ''
          ? `${name}: no ${kind} reference seen yet in this session`
          : `${name}: this session has seen ${list.length === 0 ? 'no' : `only ${list.length}`} ${kind} reference${list.length === 1 ? '' : 's'}`;
      return name;
    });
    return error ? { error } : { line: expanded };
  }
}
