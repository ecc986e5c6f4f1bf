import type { TestProject } from 'vitest/node';
import { acquireTestServices, releaseTestServices } from './test-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's migrated template database on its Postgres; '' when the run has none. */
    pgTemplate: string;
    /** A migrated PGlite data directory (tarball) each PGlite test database is loaded from. */
    pgliteImage: string;
  }
}

/**
 * The globalSetup of every project that uses a database or Redis. The run's Postgres, Redis,
 * template database and PGlite image are made once, by whichever project comes first
 * (test-services.ts); each test file clones the template (CREATE DATABASE … TEMPLATE) or loads
 * the image, so files run in parallel on databases of their own. Everything is dropped after.
 */
export default async function setup(project: TestProject) {
  const services = await acquireTestServices();
  if (services.postgres === 'none' && !process.env.TEST_WORKERS) twoAtATime(project);
  project.provide('pgTemplate', services.pgTemplate);
  project.provide('pgliteImage', services.pgliteImage);
  return releaseTestServices;
}

/**
 * On PGlite every database runs in its test file's own worker, on the CPU the timers share: a
 * PGlite-only run three files at a time failed pacing and lateness bounds (and passed with the
 * same files alone), so such a run takes two at a time unless TEST_WORKERS says otherwise.
 * Vitest reads each project's maxWorkers when it starts the files, after the global set-ups, and
 * wants it equal across the projects of one group, hence every project at once.
 */
function twoAtATime(project: TestProject): void {
  for (const each of project.vitest.projects)
    if (each.config.maxWorkers > 2) each.config.maxWorkers = 2;
}
