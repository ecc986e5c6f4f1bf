import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openStorage } from '../../src/db/client.js';
import { databaseUrl, TEST_POSTGRES_URL } from './env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
  }
}

/**
 * Migrates one template database per test run; each test file clones it (CREATE DATABASE …
 * TEMPLATE), so files run in parallel on databases of their own. Everything is dropped after.
 */
export default async function setup(project: TestProject) {
  const run = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const template = `concord_t_${run}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  const storage = await openStorage({ databaseUrl: databaseUrl(template) });
  await storage.close();
  project.provide('pgTemplate', template);
  return async () => {
    const clones = await admin<
      { datname: string }[]
    >`select datname from pg_database where datname like ${`concord_t_${run}%`}`;
    for (const { datname } of clones)
      await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
  };
}
