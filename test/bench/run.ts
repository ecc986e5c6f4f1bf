import { benchAck } from './ack.js';
import { benchDirectory } from './directory.js';
import { benchFanout } from './fanout.js';
import { benchFollowups } from './followups.js';
import { benchScale } from './scale.js';

/** `npm run bench -- <name>`: each benchmark prints a table and writes bench-results/<name>.json. */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  ack: benchAck,
  directory: benchDirectory,
  fanout: benchFanout,
  followups: benchFollowups,
  scale: benchScale,
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (names.length === 0 || unknown.length > 0) {
  console.error(
    `usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}>${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
  );
  process.exit(2);
}
for (const name of names) {
  const bench = BENCHMARKS[name];
  if (bench) await bench();
}
process.exit(0);
