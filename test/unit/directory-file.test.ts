import { describe, expect, it } from 'vitest';
import { DirectoryFileError, parseDirectoryFile } from '../../src/directory/directory-file.js';

const parseError = (text: string) => {
  try {
    parseDirectoryFile(text, 'dir.yaml');
  } catch (err) {
    if (err instanceof DirectoryFileError) return err.message;
    throw err;
  }
  throw new Error('the file was accepted');
};

describe('directory file syntax errors', () => {
  it('name the line and column where YAML broke, not line 1', () => {
    const text = [
      'organisations:',
      '  - code: EST',
      '    name: Estonia',
      '    kind: delegation',
      '  - code: ACME: Security',
      '    name: Acme',
      'people: []',
    ].join('\n');
    expect(parseError(text)).toBe(
      'dir.yaml:5:11: Nested mappings are not allowed in compact mappings',
    );
  });

  it('point at a bad indentation in the middle of the file', () => {
    const text = ['organisations: []', 'people:', '  - handle: kadri', '   name: Kadri'].join('\n');
    expect(parseError(text)).toBe('dir.yaml:4:1: Sequence item without - indicator');
  });

  it('name a duplicate key on its own line', () => {
    const text = ['organisations: []', 'people: []', 'people: []'].join('\n');
    expect(parseError(text)).toMatch(/^dir\.yaml:3:1: /);
  });
});
