import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { randomToken } from './ids.js';
import type { FakeUser } from './state.js';

/** Gateway intents the fake looks at (Discord's bits). */
export const INTENT = {
  guilds: 1 << 0,
  guildMembers: 1 << 1,
  guildPresences: 1 << 8,
  guildMessages: 1 << 9,
  directMessages: 1 << 12,
  messageContent: 1 << 15,
} as const;

/** Intents a bot may use only once they are switched on in the Developer Portal. */
export const PRIVILEGED_INTENTS =
  INTENT.guildMembers | INTENT.guildPresences | INTENT.messageContent;

/** Who the bot is and what the gateway hands out. */
export interface GatewayOptions {
  token: string;
  bot: FakeUser;
  applicationId: string;
  guildId: string;
  /** Where clients resume (`resume_gateway_url`). */
  url: string;
  heartbeatIntervalMs: number;
  /** Privileged intents "switched on in the portal"; asking for others closes with 4014. */
  allowedPrivilegedIntents: number;
  guildCreate(): unknown;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  /** Sent dispatches, replayed on RESUME. */
  sent: { op: 0; t: string; s: number; d: unknown }[];
  socket: WebSocket | null;
}

/** Per session: the payload to send, or undefined when its intents do not cover the event. */
export type DispatchFor = (intents: number) => unknown;

/**
 * Discord's gateway, as far as discord.js needs it: HELLO, IDENTIFY → READY + GUILD_CREATE,
 * heartbeats and their ACKs, sequence numbers, RESUME with replay of missed events, and the close
 * codes for a bad token (4004), a bad API version (4012) and unapproved privileged intents (4014).
 * JSON only: discord.js asks for `zlib-stream` only when the optional zlib-sync is installed.
 */
export class FakeGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  readonly sessions = new Map<string, Session>();
  /** The query string of every connection (`v`, `encoding`, `compress`). */
  readonly connections: URLSearchParams[] = [];
  identifies = 0;
  resumes = 0;
  heartbeats = 0;

  constructor(private readonly options: GatewayOptions) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const query = new URL(req.url ?? '/', 'http://fake').searchParams;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, query));
  }

  private accept(ws: WebSocket, query: URLSearchParams): void {
    this.connections.push(query);
    if (query.get('v') !== '10') {
      ws.close(4012, 'Invalid API version');
      return;
    }
    if ((query.get('encoding') ?? 'json') !== 'json') {
      ws.close(4002, 'Decode error');
      return;
    }
    let session: Session | undefined;
    ws.send(
      JSON.stringify({ op: 10, d: { heartbeat_interval: this.options.heartbeatIntervalMs } }),
    );
    ws.on('message', (raw: RawData) => {
      let payload: { op?: number; d?: Record<string, unknown> | number | null };
      try {
        payload = JSON.parse(raw.toString());
      } catch {
        return ws.close(4002, 'Decode error');
      }
      if (payload.op === 1) {
        this.heartbeats++;
        return ws.send(JSON.stringify({ op: 11 }));
      }
      const d = typeof payload.d === 'object' && payload.d !== null ? payload.d : {};
      if (payload.op === 2) {
        if (session) return ws.close(4005, 'Already authenticated');
        session = this.identify(ws, d);
        return;
      }
      if (payload.op === 6) {
        if (session) return ws.close(4005, 'Already authenticated');
        session = this.resume(ws, d);
        return;
      }
      if (!session) return ws.close(4003, 'Not authenticated');
      // Presence updates (3), voice (4) and member requests (8) need no answer here.
      if (![3, 4, 8].includes(payload.op ?? -1)) ws.close(4001, 'Unknown opcode');
    });
    ws.on('close', () => {
      if (session?.socket === ws) session.socket = null;
    });
  }

  private identify(ws: WebSocket, d: Record<string, unknown>): Session | undefined {
    if (d.token !== this.options.token) {
      ws.close(4004, 'Authentication failed');
      return undefined;
    }
    const intents = d.intents;
    if (typeof intents !== 'number') {
      ws.close(4013, 'Invalid intent(s)');
      return undefined;
    }
    if ((intents & PRIVILEGED_INTENTS & ~this.options.allowedPrivilegedIntents) !== 0) {
      ws.close(4014, 'Disallowed intent(s)');
      return undefined;
    }
    this.identifies++;
    const session: Session = { id: randomToken('session'), intents, seq: 0, sent: [], socket: ws };
    this.sessions.set(session.id, session);
    this.send(session, 'READY', {
      v: 10,
      user: { ...this.options.bot, verified: true, mfa_enabled: false, flags: 0 },
      guilds: [{ id: this.options.guildId, unavailable: true }],
      session_id: session.id,
      resume_gateway_url: this.options.url,
      shard: [0, 1],
      application: { id: this.options.applicationId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      user_settings: {},
      session_type: 'normal',
    });
    // The guild arrives in full right after READY; discord.js turns ready once it has it.
    if (intents & INTENT.guilds) this.send(session, 'GUILD_CREATE', this.options.guildCreate());
    return session;
  }

  private resume(ws: WebSocket, d: Record<string, unknown>): Session | undefined {
    const session = this.sessions.get(String(d.session_id));
    if (!session || d.token !== this.options.token) {
      // Not resumable: the client must identify afresh.
      ws.send(JSON.stringify({ op: 9, d: false }));
      return undefined;
    }
    this.resumes++;
    session.socket = ws;
    const from = typeof d.seq === 'number' ? d.seq : 0;
    for (const packet of session.sent) if (packet.s > from) ws.send(JSON.stringify(packet));
    this.send(session, 'RESUMED', {});
    return session;
  }

  private send(session: Session, t: string, d: unknown): void {
    const packet = { op: 0 as const, t, s: ++session.seq, d };
    session.sent.push(packet);
    if (session.sent.length > 1000) session.sent.shift();
    if (session.socket?.readyState === 1) session.socket.send(JSON.stringify(packet));
  }

  /**
   * Sends an event to every session; a session whose socket is down gets it on RESUME.
   * `payload` may decide per session (by intents) what to send, or nothing.
   */
  dispatch(t: string, payload: unknown, forSession?: DispatchFor): void {
    for (const session of this.sessions.values()) {
      const d = forSession ? forSession(session.intents) : payload;
      if (d !== undefined) this.send(session, t, d);
    }
  }

  /** Sessions whose socket is open now: the bots connected to the gateway at this moment. */
  openSessions(): number {
    return [...this.sessions.values()].filter((s) => s.socket?.readyState === 1).length;
  }

  /** Drops every connection as a network fault would (close code 4000): clients resume. */
  disconnect(code = 4000): void {
    for (const session of this.sessions.values()) session.socket?.close(code, 'fake disconnect');
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
