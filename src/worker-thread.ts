import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on `script` (a file URL). Concord runs its TypeScript through tsx,
 * whose module hooks a worker does not inherit: for a `.ts` script the thread registers tsx
 * first, then loads it.
 */
export function startWorkerThread(script: string, options: WorkerOptions = {}): Worker {
  if (!script.endsWith('.ts')) return new Worker(new URL(script), options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(script)}); })`,
    { ...options, eval: true },
  );
}
