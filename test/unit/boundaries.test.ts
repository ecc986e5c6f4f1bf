import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The core (src/) never knows which chat platform it talks to: platform SDKs and the adapters
// that wrap them live in adapters/, and only adapters/ may import them (design section 4).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const ADAPTERS = join(ROOT, 'adapters');

const SOURCE_FILE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;

/** Every module specifier in a source text: static imports and re-exports, import(), require(). */
function specifiers(source: string): string[] {
  const patterns = [
    // import x from 'm'; import { a,\n b } from 'm'; import type X from 'm'; export * from 'm'
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g,
    // import 'm' (side effects only)
    /\bimport\s*(['"])([^'"]+)\1/g,
    // import('m'), require('m'), including template literals without substitutions
    /\b(?:import|require)\s*\(\s*(['"`])([^'"`$]+)\1\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[2] ?? ''));
}

/** Why `specifier`, imported by `file`, crosses the boundary; undefined when it does not. */
function violation(file: string, specifier: string): string | undefined {
  if (/^@slack\//.test(specifier)) return 'a Slack SDK';
  if (/^discord\.js(?:\/|$)/.test(specifier)) return 'discord.js';
  if (/^discord-api-types(?:\/|$)/.test(specifier)) return 'discord-api-types';
  if (/^adapters(?:\/|$)/.test(specifier)) return 'the adapters folder';
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    if (target === ADAPTERS || target.startsWith(ADAPTERS + sep)) return 'the adapters folder';
  }
  return undefined;
}

/** The boundary crossings in one source file, as `specifier (reason)`. */
function crossings(file: string, source: string): string[] {
  return specifiers(source).flatMap((specifier) => {
    const reason = violation(file, specifier);
    return reason ? [`${specifier} (${reason})`] : [];
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.isFile() && SOURCE_FILE.test(entry.name) ? [path] : [];
  });
}

describe('the core does not depend on the platforms', () => {
  const files = sourceFiles(SRC);

  it('walks the whole of src/', () => {
    const names = files.map((f) => relative(ROOT, f).split(sep).join('/'));
    expect(names).toContain('src/commands/parse.ts');
    expect(names).toContain('src/config.ts');
    expect(names.some((n) => n.split('/').length >= 4)).toBe(true);
    expect(files.length).toBeGreaterThan(20);
  });

  it('no file under src/ imports adapters/, @slack/*, discord.js or discord-api-types', () => {
    const found = files.flatMap((file) =>
      crossings(file, readFileSync(file, 'utf8')).map(
        (c) => `${relative(ROOT, file).split(sep).join('/')}: ${c}`,
      ),
    );
    expect(found).toEqual([]);
  });

  describe('the detector itself', () => {
    const file = join(SRC, 'commands', 'example.ts');

    it.each([
      ["import { App } from '@slack/bolt';", '@slack/bolt'],
      ['import type { WebClient } from "@slack/web-api";', '@slack/web-api'],
      ["const d = await import('discord.js')", 'discord.js'],
      ['const { Client } = require("discord.js");', 'discord.js'],
      ["import type { APIUser } from 'discord-api-types/v10';", 'discord-api-types/v10'],
      ["export * from '../../adapters/shell/run.js'", '../../adapters/shell/run.js'],
      ["export { boot } from '../../adapters/boot.js';", '../../adapters/boot.js'],
      ["import {\n  a,\n  b,\n} from '../../adapters/shell/io.js';", '../../adapters/shell/io.js'],
      ["import '../../adapters/main.js';", '../../adapters/main.js'],
      ['const m = await import(`../../adapters/boot.js`);', '../../adapters/boot.js'],
      ["import { x } from 'adapters/shell/run.js';", 'adapters/shell/run.js'],
    ])('flags %s', (source, specifier) => {
      const found = crossings(file, source);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `),
      );
    });

    it.each([
      "import { z } from 'zod'",
      "import { parseCommand } from './parse.js';",
      "import type { ChatPort } from '../chat/port.js';",
      // src/commands/adapters.js and src/chat/adapters/ are not the top-level adapters folder
      "import { a } from './adapters.js';",
      "import { a } from '../chat/adapters/slack.js';",
      "const url = 'https://discord.js.org'; const s = '@slack/bolt';",
      "import { discord } from './discord.js';",
    ])('does not flag %s', (source) => {
      expect(crossings(file, source)).toEqual([]);
    });
  });
});
