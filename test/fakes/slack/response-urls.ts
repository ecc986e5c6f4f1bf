import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './api.js';
import { isRecord } from './params.js';
import { nextTs, type SlackWorkspace, storeMessage } from './workspace.js';

// Slack's rule: a response_url takes at most five posts, within thirty minutes.
const MAX_POSTS = 5;
const LIFETIME_MS = 30 * 60_000;

/** One post the app made to a response_url. */
export interface FakeResponsePost {
  url: string;
  /** The trigger of the command or button press the URL was issued for. */
  triggerId: string;
  body: Record<string, unknown>;
  at: number;
  /** What the fake answered: 200, or 404 when the post broke Slack's rules. */
  status: number;
}

interface Issued {
  triggerId: string;
  channel?: string;
  user?: string;
  issuedAt: number;
  posts: number;
}

/** Response URLs the fake hands out with commands and button presses, and what came back. */
export class ResponseUrls {
  readonly posts: FakeResponsePost[] = [];
  readonly violations: string[] = [];
  private readonly issued = new Map<string, Issued>();

  constructor(
    private readonly ws: SlackWorkspace,
    private readonly base: string,
  ) {}

  issue(triggerId: string, where: { channel?: string; user?: string } = {}): string {
    const id = randomBytes(9).toString('hex');
    this.issued.set(id, { triggerId, ...where, issuedAt: Date.now(), posts: 0 });
    return `${this.base}${id}`;
  }

  async handle(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = `${this.base}${id}`;
    const text = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) body = parsed;
    } catch {
      this.violations.push(`${url}: body is not JSON`);
    }
    const issued = this.issued.get(id);
    let problem: string | undefined;
    if (!issued) problem = 'unknown response_url';
    else if (++issued.posts > MAX_POSTS)
      problem = `post ${issued.posts} (Slack allows ${MAX_POSTS})`;
    else if (Date.now() - issued.issuedAt > LIFETIME_MS) problem = 'expired response_url';
    const status = problem ? 404 : 200;
    this.posts.push({ url, triggerId: issued?.triggerId ?? '', body, at: Date.now(), status });
    if (problem) this.violations.push(`${url}: ${problem}`);
    else if (issued) this.apply(issued, body);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(problem ? 'used_url' : 'ok');
  }

  /** An `in_channel` response becomes a message everyone sees; anything else stays ephemeral. */
  private apply(issued: Issued, body: Record<string, unknown>): void {
    if (!issued.channel) return;
    const text = typeof body.text === 'string' ? body.text : '';
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    const ts = nextTs();
    if (body.response_type === 'in_channel') {
      storeMessage(this.ws, issued.channel, {
        ts,
        text,
        ...(blocks ? { blocks } : {}),
        user: this.ws.bot.userId,
        bot_id: this.ws.bot.botId,
      });
    } else if (issued.user) {
      this.ws.ephemerals.push({
        channel: issued.channel,
        user: issued.user,
        text,
        ...(blocks ? { blocks } : {}),
        message_ts: ts,
      });
    }
  }
}
