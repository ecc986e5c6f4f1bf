import { readFileSync } from 'node:fs';
import { DirectoryFileError, parseDirectoryFile } from '../src/directory/directory-file.js';
import { importDirectory } from '../src/domain/directory/import-directory.js';
import { openConfiguredStorage, readConfig, runEntryPoint, StartupError } from './boot.js';
import { holdDataDirectory } from './data-directory.js';

/** `npm run directory:import -- <file.yaml>`: the whole directory from one file, idempotent. */
runEntryPoint(async () => {
  const [path, ...extra] = process.argv.slice(2);
  if (!path || extra.length > 0)
    throw new StartupError('usage: npm run directory:import -- <file.yaml>', 2);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StartupError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const config = readConfig();
  let file: ReturnType<typeof parseDirectoryFile>;
  try {
    file = parseDirectoryFile(text, path);
  } catch (err) {
    if (err instanceof DirectoryFileError)
      throw new StartupError(`${err.message}; nothing imported`);
    throw err;
  }
  // The embedded database is one process's: refused while a shell or a server has it open.
  const hold = config.DATABASE_URL ? undefined : await holdDataDirectory(config.CONCORD_DATA_DIR);
  const storage = await openConfiguredStorage(config);
  try {
    const s = await importDirectory({ ctx: { db: storage.db, now: new Date() }, input: { file } });
    const changed = s.auditRows > 0;
    process.stdout.write(
      `${[
        `${path}: ${file.organisations.length} organisations, ${file.people.length} people, ${file.contacts.length} contact lists read`,
        `  organisations: ${s.organisations.added} added, ${s.organisations.updated} updated`,
        `  people:        ${s.people.added} added, ${s.people.updated} updated; platform ids ${s.identities.added} added, ${s.identities.replaced} replaced`,
        `  contact lists: ${s.contactLists.changed} changed, ${s.contactLists.unchanged} unchanged`,
        changed ? `  ${s.auditRows} audit rows written` : '  nothing changed',
      ].join('\n')}\n`,
    );
  } catch (err) {
    if (err instanceof DirectoryFileError)
      throw new StartupError(`${err.message}; nothing imported`);
    throw err;
  } finally {
    await storage.close();
    await hold?.release();
  }
  return 0;
});
