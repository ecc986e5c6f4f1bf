import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerTo, type ProcessResult, runNpm, scenario } from './run-process.js';

// `npm start < test/scenarios/assistance.txt` on a fresh data directory: requests and a warning
// routed under the TLP rules, their buttons pressed and their threads answered from the shell.
const dataDir = mkdtempSync(join(tmpdir(), 'concord-assistance-'));
let run: ProcessResult;
let out: string;
/** References carry the year they were made in; the script names them $AR1, $AR2, $EW. */
let AR1: string;
let AR2: string;
let EW: string;

beforeAll(async () => {
  run = await runNpm(['start'], {
    env: { CONCORD_DATA_DIR: dataDir, PORT: '0' },
    stdin: scenario('assistance.txt'),
  });
  out = run.stdout;
  const year = /✓ AR-(\d{4})-1 sent to/.exec(out)?.[1];
  AR1 = `AR-${year}-1`;
  AR2 = `AR-${year}-2`;
  EW = `EW-${year}-1`;
}, 90_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/**
 * Thread replies numbered `#N`: when a notice posted by the delivery queue lands between two
 * replies depends on timing, not on the feature.
 */
const unnumbered = (text: string) => text.replace(/(thread \d+) #\d+\]/g, '$1 #N]');

/** The text of what the shell printed between the echoed line `from` and the next `until`. */
function between(from: string, until: string): string {
  const start = out.indexOf(`› ${from}\n`);
  if (start < 0) throw new Error(`not echoed: ${from}\n${out}`);
  const end = out.indexOf(`› ${until}\n`, start + 1);
  return out.slice(start, end < 0 ? undefined : end);
}

describe('npm start < test/scenarios/assistance.txt', () => {
  it('runs the whole script and exits 0', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(AR1).toMatch(/^AR-\d{4}-1$/);
  });

  it('routes the requests under the TLP rules and refuses what it must', () => {
    // AMBER skips ACME's inbox, which is not private in the shell, and says so.
    expect(out).toContain(
      'Sent to: ACME (Bob Stone, direct message), DEU (Anna Berg, direct message)',
    );
    expect(out).toContain('No forensics contact: FRA');
    expect(out).toContain("ACME's inbox is not private: sent to Bob Stone directly");
    expect(out).toContain(`┊ [direct message to @bob #1] TLP:AMBER 🆘 ${AR1}`);
    expect(out).toContain(`┊ [direct message to @kadri #1] TLP:AMBER 📨 ${AR1}`);
    // GREEN may use it.
    expect(out).toContain('Sent to: ACME (inbox)');
    expect(out).toContain(`┊ [#acme-inbox #1] TLP:GREEN 🆘 ${AR2}`);
    expect(out).toContain(
      '⚠ TLP:AMBER+STRICT requests go only to organisations named with to:<codes>, not to:all',
    );
    expect(out).toContain('⚠ nobody to send the request to: no cooking contact at ACME, DEU, FRA');
    expect(out).toContain('⚠ unknown organisation NOPE');
    expect(answerTo(out, '/assist close $AR1')).toMatch(
      new RegExp(`^ {2}⚠ only Kadri Tamm's organisation may close ${AR1}\\n`),
    );
  });

  it("accepts on the liaison's card, and shows the acceptance to the requester", () => {
    expect(answerTo(out, 'press Accept $AR1')).toBe(`  ✓ ${AR1}: ACME accepted`);
    expect(unnumbered(out)).toContain(
      `┊ [@kadri thread 1 #N] TLP:AMBER ✓ ACME accepted ${AR1} (Bob Stone)`,
    );
    // Bob's card loses its buttons; the requester's card shows ACME's answer.
    const accepted = between('press Accept $AR1', `reply $AR1 Send the image`);
    expect(accepted).toMatch(
      /┊ \[@bob #1 edited\] TLP:AMBER 🆘 [^\n]*\n(?: {2}┊[^\n]*\n)*? {2}┊ {2}Status \(ACME\): accepted by Bob Stone\n(?: {2}┊[^\n]*\n)*?(?! {2}┊ {2}\[Accept\])/,
    );
    expect(accepted).toMatch(
      /┊ \[@kadri #1 edited\] TLP:AMBER 📨 [^\n]*\n(?: {2}┊[^\n]*\n)*? {2}┊ {2}Organisations: ACME: accepted by Bob Stone\n {2}┊ {2}DEU: waiting\n/,
    );
  });

  it("relays replies both ways between the card's thread and the requester's, labelled", () => {
    const liaison = between(
      'reply $AR1 Send the image by the usual drop; we start within the hour',
      'as @kadri',
    );
    expect(unnumbered(liaison)).toContain(
      `  ┊ [@kadri thread 1 #N] TLP:AMBER 💬 Bob Stone (ACME) · ${AR1}\n  ┊  Send the image by the usual drop; we start within the hour\n  replied in the thread of @bob #1: Concord posted 1 message (above)\n`,
    );
    const requester = between('reply $AR1 Uploading it now', 'as @anna');
    expect(unnumbered(requester)).toContain(
      `  ┊ [@bob thread 1 #N] TLP:AMBER 💬 Kadri Tamm (EST) · ${AR1}\n  ┊  Uploading it now\n  replied in the thread of @kadri #1: Concord posted 1 message (above)\n`,
    );
  });

  it('declines for another organisation', () => {
    expect(answerTo(out, 'press Decline $AR1')).toBe(`  ✓ ${AR1}: DEU declined`);
    expect(unnumbered(out)).toContain(
      `┊ [@kadri thread 1 #N] TLP:AMBER ✗ DEU declined ${AR1} (Anna Berg)`,
    );
    expect(answerTo(out, '/assist list')).toContain(`(DEU: declined by Anna Berg)`);
  });

  it('answers each shell line it cannot do with one line, and changes nothing', () => {
    const bad: [string, string][] = [
      ['press Accept $AR1', `  ⚠ no card about ${AR1} reached @carol; nothing was pressed`],
      ['reply $AR2 Can we help?', `  ⚠ no card about ${AR2} reached @anna; nothing was sent`],
      [
        'press Frobnicate $AR2',
        `  ⚠ the card about ${AR2} that reached @bob (#acme-inbox #1) has no Frobnicate button: its buttons are Accept, Decline`,
      ],
      ['press Accept $EW', '  ⚠ $EW: no EW reference seen yet in this session; nothing was done'],
      [
        'press Accept',
        '  ⚠ write press <button> <ref>, like press Accept AR-2026-1 or press Accept $AR',
      ],
    ];
    const section = between('as @carol', 'as @nobody');
    for (const [line, answer] of bad) {
      expect(answerTo(section, line, 'last'), line).toBe(answer);
    }
    expect(section).not.toContain('┊');
    // Bob's list after them: AR2 still waits for ACME, AR1 is as Bob left it.
    expect(answerTo(section, '/assist list')).toBe(
      [
        '  2 open requests',
        `    ${AR2} · routine · open · TLP:GREEN · forensics · Indicators to share (ACME: waiting)`,
        `    ${AR1} · critical · open · TLP:AMBER · forensics · Memory image of a domain controller needs analysis (ACME: accepted by Bob Stone)`,
      ].join('\n'),
    );
  });

  it('switches to a speaker or channel it does not know, warning in one line', () => {
    expect(answerTo(out, 'as @nobody')).toBe(
      "  now speaking as @nobody\n  ⚠ @nobody is not in Concord's directory: Concord answers them as a stranger",
    );
    expect(answerTo(out, 'in #acme-inbx')).toBe(
      '  now in #acme-inbx\n  ⚠ #acme-inbx is new: the shell has not simulated it and Concord has posted nothing there',
    );
    expect(out).toContain('#acme-inbx @nobody › as @kadri');
    expect(answerTo(out, 'as @kadri', 'last')).toBe('  now speaking as @kadri');
  });

  it('acknowledges an early warning on its card, and /alert status shows it', () => {
    expect(out).toContain(
      `┊ [direct message to @anna #2] TLP:AMBER 🚨 ${EW} · early warning (high)`,
    );
    expect(answerTo(out, 'press Acknowledge $EW')).toBe(`  ✓ ${EW}: DEU acknowledged`);
    expect(answerTo(out, '/alert status $EW')).toMatch(
      new RegExp(
        `^ {2}${EW}: 1 acknowledged, 0 outstanding\\n {4}Acknowledged: DEU: acknowledged by Anna Berg at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\n {4}Outstanding: nobody$`,
      ),
    );
    expect(out).toMatch(
      /┊ \[@anna #2 edited\] TLP:AMBER 🚨 [^\n]*\n(?: {2}┊[^\n]*\n)*? {2}┊ {2}Status \(DEU\): acknowledged by Anna Berg\n/,
    );
  });

  it("closes with the Close button on the requester's card, and every card shows it", () => {
    expect(answerTo(out, 'press Close $AR1')).toBe(`  ✓ ${AR1} closed; every card shows it`);
    const closed = between('press Close $AR1', '/assist list mine');
    expect(unnumbered(closed)).toContain(
      `┊ [@bob thread 1 #N] TLP:AMBER ${AR1} closed by Kadri Tamm: resolved`,
    );
    expect(closed).toMatch(
      /┊ \[@bob #1 edited\] TLP:AMBER 🆘 [^\n]*\n(?: {2}┊[^\n]*\n)*? {2}┊ {2}Status \(ACME\): closed \(resolved\)\n/,
    );
    expect(closed).toMatch(
      /┊ \[@anna #1 edited\] TLP:AMBER 🆘 [^\n]*\n(?: {2}┊[^\n]*\n)*? {2}┊ {2}Status \(DEU\): closed \(resolved\)\n/,
    );
    expect(closed).toMatch(
      /┊ \[@kadri #1 edited\] TLP:AMBER 📨 [^\n]*\n(?: {2}┊[^\n]*\n)*? {2}┊ {2}Closed: resolved\n/,
    );
    expect(closed).not.toContain('[Close as resolved]');
    expect(out.trimEnd()).toMatch(new RegExp(`${AR1} · critical · closed \\(resolved\\) ·`));
  });
});
