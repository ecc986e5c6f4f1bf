import fc from 'fast-check';
import { ACCEPT, ACKNOWLEDGE, CLOSE, DECLINE } from '../../../src/domain/routing/cards.js';
import { randomLine, type TextWorld } from './command-text.js';
import { hostileToken, notAnAction } from './hostile.js';
import {
  type ByteMutation,
  byteMutation,
  deeplyNested,
  mutateBytes,
  mutateTree,
  type TreeMutation,
  treeMutation,
} from './mutate.js';
import { memberLine, outsiderLine } from './speakers.js';

/**
 * The bodies Slack posts to `/slack/events`, as it sends them and mutated: slash-command forms,
 * interactivity `payload=` forms (block_actions and the rest), Events API envelopes (messages,
 * edits, other events, the URL check), bodies nested deep, and garbage. Who speaks in them is
 * said in slack-requests.ts.
 */

export interface SlackWorld extends TextWorld {
  memberId: string;
  /** Slack users who may answer a routing (see World.answerers), with its id. */
  pressers: { userId: string; routingId: number }[];
  /** Slack channels the fuzz may name: none is an incident's channel. */
  channels: string[];
  teamId: string;
  appId: string;
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

const outsiderId = fc.oneof(
  fc.constant('UFZOUT0001'),
  fc.stringMatching(/^UFZ[A-Z0-9]{3,9}$/),
  fc.stringMatching(/^WFZ[A-Z0-9]{3,9}$/),
);
const channelId = (w: SlackWorld) =>
  fc.oneof(fc.constantFrom(...w.channels), fc.stringMatching(/^[CGD]FZ[A-Z0-9]{3,9}$/));
const slackTs = fc
  .tuple(fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), fc.nat(999_999))
  .map(([s, f]) => `${s}.${String(f).padStart(6, '0')}`);

function splitLine(line: string): { command: string; text: string } {
  const trimmed = line.trimStart();
  const space = trimmed.search(/\s/);
  return space < 0
    ? { command: trimmed, text: '' }
    : { command: trimmed.slice(0, space), text: trimmed.slice(space + 1) };
}

function commandForm(w: SlackWorld, line: string, userId: string): Record<string, string> {
  const { command, text } = splitLine(line);
  return {
    token: 'verification-token-unused',
    team_id: w.teamId,
    team_domain: 'fuzz',
    channel_id: w.channels[0] ?? 'CFZ0',
    channel_name: 'fuzz',
    user_id: userId,
    user_name: 'fuzzer',
    command,
    text,
    api_app_id: w.appId,
    is_enterprise_install: 'false',
    response_url: 'FZURLFZ',
    trigger_id: 'FZSEQFZ.1.fuzztrigger',
  };
}

/** Keys of the member's command form no mutation may touch. */
const MEMBER_FIXED = new Set(['command', 'text', 'user_id']);

function formBody(fields: Record<string, unknown>): Uint8Array {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    params.append(key, typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  }
  return Buffer.from(params.toString());
}

/** Tree mutations that leave `fixed` top-level keys alone (by mutating a copy without them). */
function mutateExcept(
  fields: Record<string, unknown>,
  fixed: ReadonlySet<string>,
  mutations: readonly TreeMutation[],
): Record<string, unknown> {
  const free = Object.fromEntries(Object.entries(fields).filter(([k]) => !fixed.has(k)));
  const kept = Object.fromEntries(Object.entries(fields).filter(([k]) => fixed.has(k)));
  const mutated = mutateTree(free, mutations);
  const base =
    mutated !== null && typeof mutated === 'object' && !Array.isArray(mutated)
      ? (mutated as Record<string, unknown>)
      : {};
  return { ...base, ...kept };
}

// Many cases unmutated or nearly so, to get past the first check that a mangled case fails.
const mutations = fc.oneof(
  { weight: 2, arbitrary: fc.constant([] as TreeMutation[]) },
  { weight: 3, arbitrary: fc.array(treeMutation, { minLength: 1, maxLength: 3 }) },
);
const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.constant([] as ByteMutation[]) },
  { weight: 1, arbitrary: fc.array(byteMutation, { minLength: 1, maxLength: 2 }) },
);

export const commandBody = (w: SlackWorld) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(outsiderLine(w), outsiderId, mutations, bytes)
        .map(([line, user, tree, raw]) => ({
          label: 'command:outsider',
          body: mutateBytes(formBody(mutateTree(commandForm(w, line, user), tree) as never), raw),
        })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(memberLine(w), mutations).map(([{ line }, tree]) => ({
        label: 'command:member',
        body: formBody(mutateExcept(commandForm(w, line, w.memberId), MEMBER_FIXED, tree)),
      })),
    },
  );

const actionId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(ACCEPT, DECLINE, ACKNOWLEDGE, CLOSE) },
  hostileToken,
);
const actionValue = (w: SlackWorld) =>
  fc.oneof(
    fc.constantFrom(...w.routingIds.map(String), ...w.requestRefs, '0', '-1', '1.5', ''),
    fc.integer({ min: -5, max: 100_000 }).map(String),
    hostileToken,
  );

function blockActions(
  w: SlackWorld,
  user: string,
  channel: string,
  ts: string,
  actions: { action_id: string; value: string }[],
) {
  return {
    type: 'block_actions',
    user: { id: user, username: 'fuzzer', name: 'fuzzer', team_id: w.teamId },
    api_app_id: w.appId,
    token: 'verification-token-unused',
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    trigger_id: 'FZSEQFZ.2.fuzztrigger',
    team: { id: w.teamId, domain: 'fuzz' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'fuzz' },
    message: { type: 'message', ts, text: 'card' },
    state: { values: {} },
    response_url: 'FZURLFZ',
    actions: actions.map((a) => ({
      type: 'button',
      block_id: 'actions',
      text: { type: 'plain_text', text: a.action_id, emoji: true },
      action_ts: ts,
      ...a,
    })),
  };
}

const OTHER_INTERACTIONS = [
  'view_submission',
  'view_closed',
  'shortcut',
  'message_action',
  'block_suggestion',
  'interactive_message',
  'dialog_submission',
  'workflow_step_edit',
];

export const interactionBody = (w: SlackWorld) =>
  fc
    .tuple(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .tuple(
              outsiderId,
              channelId(w),
              slackTs,
              fc.array(fc.record({ action_id: actionId, value: actionValue(w) }), {
                minLength: 1,
                maxLength: 3,
              }),
            )
            .map(([user, channel, ts, actions]) => blockActions(w, user, channel, ts, actions)),
        },
        {
          // Someone who may answer a routing presses a button on it that is no real action:
          // nothing may change.
          weight: 2,
          arbitrary: fc
            .tuple(fc.constantFrom(...w.pressers), channelId(w), slackTs, notAnAction)
            .map(([{ userId, routingId }, channel, ts, action]) =>
              blockActions(w, userId, channel, ts, [
                { action_id: action, value: String(routingId) },
              ]),
            ),
        },
        fc.tuple(fc.constantFrom(...OTHER_INTERACTIONS), outsiderId).map(([type, user]) => ({
          type,
          user: { id: user },
          team: { id: w.teamId },
          api_app_id: w.appId,
          trigger_id: 'FZSEQFZ.3.fuzztrigger',
          callback_id: 'fuzz',
          view: { id: 'VFZ1', type: 'modal', callback_id: 'fuzz', state: { values: {} } },
          response_url: 'FZURLFZ',
        })),
      ),
      mutations,
      fc.oneof(
        { weight: 5, arbitrary: fc.constant('json' as const) },
        fc.constantFrom('not-json' as const, 'array' as const, 'empty' as const),
      ),
      bytes,
    )
    .map(([payload, tree, shape, raw]) => {
      const mutated = mutateTree(payload, tree);
      const text =
        shape === 'json'
          ? JSON.stringify(mutated)
          : shape === 'array'
            ? JSON.stringify([mutated])
            : shape === 'empty'
              ? ''
              : `{${JSON.stringify(mutated)}`;
      return {
        label: `interaction:${(payload as { type: string }).type}`,
        body: mutateBytes(formBody({ payload: text }), raw),
      };
    });

const messageEvent = (w: SlackWorld) =>
  fc
    .record({
      user: fc.oneof(outsiderId, fc.constant(w.memberId)),
      channel: channelId(w),
      ts: slackTs,
      text: fc.oneof(fc.string({ maxLength: 40 }), hostileToken, randomLine),
      subtype: fc.option(
        fc.constantFrom(
          'thread_broadcast',
          'file_share',
          'me_message',
          'bot_message',
          'channel_join',
          'message_deleted',
        ),
        { nil: undefined },
      ),
      thread: fc.option(slackTs, { nil: undefined }),
    })
    .map(({ user, channel, ts, text, subtype, thread }) => ({
      type: 'message',
      channel,
      user,
      text,
      ts,
      channel_type: 'channel',
      ...(subtype ? { subtype } : {}),
      ...(thread ? { thread_ts: thread } : {}),
    }));

const editEvent = (w: SlackWorld) =>
  fc.tuple(messageEvent(w), fc.string({ maxLength: 30 }), slackTs).map(([said, before, ts]) => ({
    type: 'message',
    subtype: 'message_changed',
    hidden: true,
    channel: said.channel,
    ts,
    message: { ...said, edited: { user: said.user, ts } },
    previous_message: { type: 'message', user: said.user, text: before, ts: said.ts },
  }));

const otherEvent = (w: SlackWorld) =>
  fc
    .tuple(
      fc.constantFrom(
        'app_mention',
        'reaction_added',
        'member_joined_channel',
        'channel_created',
        'app_home_opened',
        'team_join',
        'fuzz_unknown',
      ),
      outsiderId,
      channelId(w),
      slackTs,
    )
    .map(([type, user, channel, ts]) => ({ type, user, channel, ts, text: 'hi', item: { ts } }));

function envelope(w: SlackWorld, event: unknown) {
  return {
    token: 'verification-token-unused',
    team_id: w.teamId,
    context_team_id: w.teamId,
    api_app_id: w.appId,
    event,
    type: 'event_callback',
    event_id: 'EvFZFZSEQFZ',
    event_time: 1_700_000_000,
    authorizations: [{ team_id: w.teamId, user_id: 'UBOT', is_bot: true }],
    event_context: '4-fuzz',
  };
}

export const eventBody = (w: SlackWorld) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.oneof({ weight: 3, arbitrary: messageEvent(w) }, editEvent(w), otherEvent(w)),
          mutations,
          bytes,
        )
        .map(([event, tree, raw]) => ({
          label: `event:${(event as { type: string }).type}`,
          body: mutateBytes(Buffer.from(JSON.stringify(mutateTree(envelope(w, event), tree))), raw),
        })),
    },
    fc.tuple(fc.jsonValue({ maxDepth: 2 }), mutations).map(([challenge, tree]) => ({
      label: 'event:url_verification',
      body: Buffer.from(
        JSON.stringify(mutateTree({ token: 'x', challenge, type: 'url_verification' }, tree)),
      ),
    })),
    fc.constantFrom('app_rate_limited', 'app_uninstalled', 'fuzz').map((type) => ({
      label: `event:${type}`,
      body: Buffer.from(JSON.stringify({ type, team_id: w.teamId, api_app_id: w.appId })),
    })),
  );

// Nesting deep enough to test recursion limits in parsing, in the structured clone that carries
// an accepted request from the front-door thread to the main thread, and in Bolt's walks.
export const deepBody = fc
  .tuple(fc.constantFrom(100, 1_000, 5_000, 20_000), fc.boolean())
  .map(([depth, asForm]) => {
    const inner = `{"type":"event_callback","event_id":"EvFZFZSEQFZ","event":{"type":"message","deep":${deeplyNested(depth)}}}`;
    return {
      label: `deep:${depth}`,
      body: Buffer.from(asForm ? `payload=${encodeURIComponent(inner)}` : inner),
    };
  });

export const garbageBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ label: 'garbage:bytes', body: b })),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({
    label: 'garbage:text',
    body: Buffer.from(s),
  })),
  fc.json({ maxDepth: 3 }).map((s) => ({ label: 'garbage:json', body: Buffer.from(s) })),
  fc
    .array(fc.tuple(fc.oneof(hostileToken, fc.string()), fc.oneof(hostileToken, fc.string())), {
      maxLength: 6,
    })
    .map((pairs) => ({
      label: 'garbage:form',
      body: Buffer.from(pairs.map(([k, v]) => `${k}=${v}`).join('&')),
    })),
  fc
    .constantFrom(
      '',
      '{}',
      '[]',
      'null',
      '"x"',
      '1',
      'payload=',
      'payload=null',
      'payload=1',
      'payload=%7B',
      'payload=%ZZ',
      'ssl_check=1&token=x',
      'ssl_check=1&payload=%7B',
      'command=%2Fconcord&text=help',
      '%',
      '&&&==&',
      '{"__proto__":{"type":"url_verification"}}',
      '{"type":"url_verification","challenge":{"__proto__":null}}',
    )
    .map((s) => ({ label: 'garbage:edge', body: Buffer.from(s) })),
);
