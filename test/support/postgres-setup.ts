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
  project.provide('pgTemplate', services.pgTemplate);
  project.provide('pgliteImage', services.pgliteImage);
  return releaseTestServices;
}
