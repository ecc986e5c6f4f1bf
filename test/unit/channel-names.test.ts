import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitChannelName } from '../../src/chat/channel-names.js';
import {
  CHANNEL_NAME_MAX,
  incidentChannelName,
  suffixedName,
} from '../../src/domain/incidents/names.js';

describe('incident channel names', () => {
  it('are inc-<year>-<seq>-<slug>, lowercase ASCII', () => {
    expect(incidentChannelName('INC-2026-14', 'Ransomware at Port of Tallinn!')).toBe(
      'inc-2026-14-ransomware-at-port-of-tallinn',
    );
    expect(incidentChannelName('INC-2026-3', 'Über-Angriff auf Straßen')).toBe(
      'inc-2026-3-uber-angriff-auf-stra-en',
    );
  });

  it('cut a long title at a word boundary and leave room for a suffix', () => {
    const name = incidentChannelName('INC-2026-123', 'word '.repeat(40));
    expect(name.length).toBeLessThanOrEqual(CHANNEL_NAME_MAX - 3);
    expect(name).toMatch(/^inc-2026-123-(word-)*word$/);
    expect(suffixedName(name, 0)).toBe(name);
    expect(suffixedName(name, 1)).toBe(`${name}-2`);
  });

  it('fit both platforms for any title', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (title) => {
        const name = suffixedName(incidentChannelName('INC-2026-99999', title), 19);
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^inc-2026-99999(-[a-z0-9_-]*[a-z0-9])?(-20)?$/);
        expect(fitChannelName(name, 80)).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fitChannelName', () => {
  it('folds accents, joins other characters with one dash, and keeps to the limit', () => {
    expect(fitChannelName('INC-2026-1 Über  Ransomware!', 80)).toBe('inc-2026-1-uber-ransomware');
    expect(fitChannelName('a'.repeat(120), 100)).toHaveLength(100);
    expect(fitChannelName('???', 80)).toBe('channel');
  });
});
