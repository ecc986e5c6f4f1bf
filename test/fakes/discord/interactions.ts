import { DiscordApiError, INVALID_FORM, UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK } from './routes.js';

/** Discord's interaction rules: answer within 3 s, answer once, follow up within 15 minutes. */
export const ACK_DEADLINE_MS = 3000;
const TOKEN_LIFETIME_MS = 15 * 60_000;
const EPHEMERAL = 64;

/** One interaction Discord delivered to the bot, and everything the bot did with it. */
export interface FakeInteraction {
  id: string;
  token: string;
  kind: 'command' | 'button';
  via: 'gateway' | 'http';
  payload: Record<string, unknown>;
  channelId: string;
  /** Buttons: the message the button sits on. */
  sourceMessageId?: string;
  dispatchedAt: number;
  /** The first (and only accepted) answer. */
  ack?: { type: number; data?: unknown; at: number; ms: number; via: 'callback' | 'http' };
  /** Every callback attempt with its HTTP status and error code, accepted or not. */
  attempts: { type?: number; at: number; status: number; code?: number }[];
  /** A callback came after the deadline (the user saw "The application did not respond"). */
  timedOut: boolean;
  /** Callbacks refused with 40060 because the interaction was already acknowledged. */
  duplicateCallbacks: number;
  /** The response message as the bot last set it (PATCH @original), unless deleted. */
  original?: { content?: unknown; embeds?: unknown; components?: unknown; ephemeral: boolean };
  originalEdits: number;
  originalDeleted: boolean;
  followUps: Record<string, unknown>[];
  /** Signed HTTP deliveries: settles once the bot's HTTP answer has been read. */
  httpAnswered?: Promise<void>;
}

/** How the bot answered: what `sendCommand` and `sendButton` resolve with. */
export interface AckResult {
  interactionId: string;
  token: string;
  /** 4 message, 5 deferred message, 6 deferred update, 7 update; null: no answer in time. */
  callbackType: number | null;
  callbackData: unknown;
  /** Milliseconds from dispatch to the first callback. */
  firstCallbackMs: number | null;
  timedOut: boolean;
}

const ALLOWED_CALLBACKS = { command: [4, 5], button: [4, 5, 6, 7] } as const;

/** Every interaction delivered to the bot, with the rules for answering it. */
export class InteractionRegistry {
  readonly all = new Map<string, FakeInteraction>();
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(private readonly deadlineMs = ACK_DEADLINE_MS) {}

  /** Records a delivery; delivering the same id again returns the first record. */
  register(payload: Record<string, unknown>, via: 'gateway' | 'http'): FakeInteraction {
    const id = String(payload.id);
    const existing = this.all.get(id);
    if (existing) return existing;
    const message = payload.message as { id?: string } | undefined;
    const interaction: FakeInteraction = {
      id,
      token: String(payload.token),
      kind: payload.type === 3 ? 'button' : 'command',
      via,
      payload,
      channelId: String(payload.channel_id),
      ...(message?.id ? { sourceMessageId: message.id } : {}),
      dispatchedAt: Date.now(),
      attempts: [],
      timedOut: false,
      duplicateCallbacks: 0,
      originalEdits: 0,
      originalDeleted: false,
      followUps: [],
    };
    this.all.set(id, interaction);
    return interaction;
  }

  /** POST /interactions/{id}/{token}/callback, with Discord's deadline and duplicate rules. */
  callback(id: string, token: string, body: Record<string, unknown>): void {
    const interaction = this.all.get(id);
    if (!interaction || interaction.token !== token) throw UNKNOWN_INTERACTION();
    const type = typeof body.type === 'number' ? body.type : undefined;
    const at = Date.now();
    const attempt = (status: number, code?: number) =>
      interaction.attempts.push({ ...(type === undefined ? {} : { type }), at, status, code });
    if (at - interaction.dispatchedAt > this.deadlineMs) {
      interaction.timedOut = true;
      attempt(404, 10062);
      throw UNKNOWN_INTERACTION();
    }
    if (interaction.ack) {
      interaction.duplicateCallbacks++;
      attempt(400, 40060);
      throw new DiscordApiError(400, 40060, 'Interaction has already been acknowledged.');
    }
    if (
      type === undefined ||
      !(ALLOWED_CALLBACKS[interaction.kind] as readonly number[]).includes(type)
    ) {
      attempt(400, 50035);
      throw INVALID_FORM(`callback type ${String(type)} does not fit a ${interaction.kind}`);
    }
    attempt(204);
    this.acknowledge(interaction, type, body.data, 'callback');
  }

  /** The bot's HTTP answer to a signed delivery counts as its callback. */
  answeredOverHttp(interaction: FakeInteraction, status: number, body: unknown): void {
    const type = (body as { type?: unknown } | null)?.type;
    if (status !== 200 || typeof type !== 'number') return;
    if (interaction.ack) {
      interaction.duplicateCallbacks++;
      return;
    }
    if (Date.now() - interaction.dispatchedAt > this.deadlineMs) {
      interaction.timedOut = true;
      return;
    }
    this.acknowledge(interaction, type, (body as { data?: unknown }).data, 'http');
  }

  private acknowledge(
    interaction: FakeInteraction,
    type: number,
    data: unknown,
    via: 'callback' | 'http',
  ): void {
    const at = Date.now();
    interaction.ack = { type, data, at, ms: at - interaction.dispatchedAt, via };
    const flags = (data as { flags?: unknown } | undefined)?.flags;
    const ephemeral = typeof flags === 'number' && (flags & EPHEMERAL) !== 0;
    if (type === 4) interaction.original = { ...(data as object), ephemeral };
    if (type === 5) interaction.original = { ephemeral };
    for (const wake of this.waiters.get(interaction.id) ?? []) wake();
    this.waiters.delete(interaction.id);
  }

  /** Resolves with the first answer, or at the deadline with `timedOut`. */
  waitForAck(interaction: FakeInteraction): Promise<AckResult> {
    const result = (): AckResult => ({
      interactionId: interaction.id,
      token: interaction.token,
      callbackType: interaction.ack?.type ?? null,
      callbackData: interaction.ack?.data,
      firstCallbackMs: interaction.ack?.ms ?? null,
      timedOut: !interaction.ack,
    });
    if (interaction.ack) return Promise.resolve(result());
    return new Promise((resolve) => {
      const left = interaction.dispatchedAt + this.deadlineMs - Date.now();
      const timer = setTimeout(() => {
        if (!interaction.ack) interaction.timedOut = true;
        resolve(result());
      }, left + 20);
      const list = this.waiters.get(interaction.id) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve(result());
      });
      this.waiters.set(interaction.id, list);
    });
  }

  /** The interaction behind a webhook token, once it may be followed up. */
  async forWebhook(applicationId: string, webhookId: string, token: string) {
    const interaction = [...this.all.values()].find((i) => i.token === token);
    if (webhookId !== applicationId || !interaction) throw UNKNOWN_WEBHOOK();
    await interaction.httpAnswered;
    if (Date.now() - interaction.dispatchedAt > TOKEN_LIFETIME_MS)
      throw new DiscordApiError(401, 50027, 'Invalid Webhook Token');
    if (!interaction.ack) throw UNKNOWN_WEBHOOK();
    return interaction;
  }
}
