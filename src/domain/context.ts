import type { Database } from '../db/client.js';
import type { Speaker } from './directory/speaker.js';

/** What every domain operation receives: the database, who is acting, and the time. */
export interface DomainContext {
  db: Database;
  speaker: Speaker;
  now: Date;
}

/** The audit actor for whoever is acting. */
export const actorOf = (ctx: DomainContext) => ctx.speaker.ref as string;
