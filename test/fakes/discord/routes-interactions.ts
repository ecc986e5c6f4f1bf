import { dispatchMessage } from './events.js';
import { snowflake } from './ids.js';
import { messageJson } from './json.js';
import { readMessageBody } from './message-rules.js';
import { DiscordApiError, objectBody, ok, type RouteDef, UNKNOWN_MESSAGE } from './routes.js';
import { addMessage } from './state.js';

const EPHEMERAL = 64;

/** Interaction callbacks and the interaction webhook (its token is the credential). */
export const interactionRoutes: RouteDef[] = [
  {
    method: 'POST',
    template: '/interactions/{interaction_id}/{interaction_token}/callback',
    interactionRoute: true,
    handle: ({ params, body }, ctx) => {
      ctx.interactions.callback(
        String(params.interaction_id),
        String(params.interaction_token),
        objectBody(body),
      );
      return ok();
    },
  },
  {
    method: 'PATCH',
    template: '/webhooks/{webhook_id}/{webhook_token}/messages/@original',
    interactionRoute: true,
    handle: async ({ params, body }, ctx) => {
      const interaction = await ctx.interactions.forWebhook(
        ctx.applicationId,
        String(params.webhook_id),
        String(params.webhook_token),
      );
      const parts = readMessageBody(body, 'edit');
      const ackType = interaction.ack?.type;
      if (ackType === 6 || ackType === 7) {
        // After a deferred update, @original is the message the button sits on.
        const source = ctx.state.messages.get(interaction.sourceMessageId ?? '');
        if (!source) throw UNKNOWN_MESSAGE();
        if (parts.content !== undefined) source.content = parts.content;
        if (parts.embeds !== undefined) source.embeds = parts.embeds;
        if (parts.components !== undefined) source.components = parts.components;
        source.edited_timestamp = new Date().toISOString();
        dispatchMessage(ctx, 'MESSAGE_UPDATE', source);
        return ok(messageJson(ctx.state, source));
      }
      if (interaction.originalDeleted || !interaction.original) throw UNKNOWN_MESSAGE();
      const { messageReference: _, flags: __, ...content } = parts;
      interaction.original = { ...interaction.original, ...content };
      interaction.originalEdits++;
      return ok({
        id: interaction.id,
        channel_id: interaction.channelId,
        author: ctx.state.bot,
        webhook_id: ctx.applicationId,
        content: interaction.original.content ?? '',
        embeds: interaction.original.embeds ?? [],
        components: interaction.original.components ?? [],
        flags: interaction.original.ephemeral ? EPHEMERAL : 0,
        type: 20,
        timestamp: new Date(interaction.dispatchedAt).toISOString(),
        edited_timestamp: new Date().toISOString(),
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        attachments: [],
        pinned: false,
      });
    },
  },
  {
    method: 'DELETE',
    template: '/webhooks/{webhook_id}/{webhook_token}/messages/@original',
    interactionRoute: true,
    handle: async ({ params }, ctx) => {
      const interaction = await ctx.interactions.forWebhook(
        ctx.applicationId,
        String(params.webhook_id),
        String(params.webhook_token),
      );
      if (interaction.originalDeleted || !interaction.original) throw UNKNOWN_MESSAGE();
      interaction.originalDeleted = true;
      return ok();
    },
  },
  {
    method: 'POST',
    template: '/webhooks/{webhook_id}/{webhook_token}',
    interactionRoute: true,
    handle: async ({ params, body }, ctx) => {
      const interaction = await ctx.interactions.forWebhook(
        ctx.applicationId,
        String(params.webhook_id),
        String(params.webhook_token),
      );
      const parts = readMessageBody(body, 'create');
      const ephemeral = ((parts.flags ?? 0) & EPHEMERAL) !== 0;
      interaction.followUps.push({ ...parts, ephemeral });
      if (ephemeral) {
        return ok({ id: snowflake(), channel_id: interaction.channelId, ...parts });
      }
      const channel = ctx.state.channels.get(interaction.channelId);
      if (!channel) throw new DiscordApiError(404, 10003, 'Unknown Channel');
      const message = addMessage(ctx.state, channel, ctx.state.bot, {
        content: parts.content ?? '',
        embeds: parts.embeds ?? [],
        components: parts.components ?? [],
        webhook_id: ctx.applicationId,
      });
      dispatchMessage(ctx, 'MESSAGE_CREATE', message);
      return ok(messageJson(ctx.state, message));
    },
  },
];
