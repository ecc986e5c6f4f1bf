import type { IncomingHttpHeaders } from 'node:http';

/**
 * A screened route answers each request at once, from the request alone: a platform's signature
 * check, its replay window and its acknowledgement. It runs where the socket is, which in the
 * running process is the front-door thread (`front-door.ts`), so an answer never waits for the
 * bot's work on the main thread; what it accepts reaches the main thread after the answer left.
 */
export interface ScreenRequest {
  headers: IncomingHttpHeaders;
  /** The whole body, at most MAX_BODY_BYTES. */
  body: Buffer;
}

export interface ScreenAnswer {
  status: number;
  /** A string is sent as text/plain, anything else as JSON; absent means no body. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ScreenVerdict {
  answer: ScreenAnswer;
  /** What the main thread gets, if the request is accepted (structured-cloneable). */
  accepted?: unknown;
  /** Why a request was refused or dropped, logged on the main thread. */
  note?: { level: 'warn' | 'debug'; msg: string; fields?: Record<string, unknown> };
}

/** Answers from the request alone, or after one quick look elsewhere (a shared memory). */
export type Screen = (request: ScreenRequest) => ScreenVerdict | Promise<ScreenVerdict>;

/**
 * Where a screen comes from: a module exporting `createScreen(options): Screen`. A module and
 * plain options, not a function, because the front-door thread imports it in its own isolate.
 */
export interface ScreenSpec {
  /** File URL of the module (`new URL('./screen.js', import.meta.url).href`). */
  module: string;
  options: unknown;
}

export interface ScreenModule {
  createScreen(options: unknown): Screen;
}

/** Request bodies beyond this get 413 before any screen sees them. */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function loadScreen(spec: ScreenSpec): Promise<Screen> {
  const loaded = (await import(spec.module)) as Partial<ScreenModule>;
  if (typeof loaded.createScreen !== 'function') {
    throw new Error(`${spec.module} does not export createScreen`);
  }
  return loaded.createScreen(spec.options);
}

/**
 * The URL of module `name` next to the calling module, with the caller's own extension: `.ts`
 * when run through tsx or vitest, `.js` when compiled. For ScreenSpec.module and worker scripts.
 */
export function siblingModule(callerUrl: string, name: string): string {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(callerUrl).pathname)?.[0] ?? '.js';
  return new URL(`./${name}${extension}`, callerUrl).href;
}
