import { describe, expect, it } from 'vitest';
import { slackContractViolations, slackEnvelopeViolations } from './slack/contract.js';
import { eventEnvelope } from './slack/payloads.js';
import { createWorkspace } from './slack/workspace.js';

// The checker that holds recorded calls to Slack's published API descriptions.

describe('Web API contract', () => {
  it('flags a made-up method, a missing required parameter, a wrong type and a stray parameter', () => {
    expect(
      slackContractViolations([
        { method: 'chat.postMessages', params: { channel: 'C1', text: 'x' } },
        { method: 'chat.postMessage', params: { text: 'x' } },
        { method: 'conversations.list', params: { limit: 'ten', exclude_archived: 'yes' } },
        { method: 'pins.add', params: { channel: 'C1', ts: '1.2' } },
      ]),
    ).toEqual([
      'chat.postMessages: not a Slack Web API method',
      'chat.postMessage: required parameter channel is missing',
      'conversations.list: limit should be an integer, got "ten"',
      'conversations.list: exclude_archived should be a boolean, got "yes"',
      'pins.add: takes no parameter ts',
    ]);
  });

  it('accepts form-encoded numbers and booleans, team_id, and GET-listed methods', () => {
    expect(
      slackContractViolations([
        {
          method: 'conversations.list',
          params: { limit: '200', exclude_archived: 'true', team_id: 'T1' },
        },
        { method: 'auth.test', params: {} },
        { method: 'chat.postMessage', params: { channel: 'C1', blocks: [{ type: 'divider' }] } },
      ]),
    ).toEqual([]);
  });
});

describe('Events API envelopes', () => {
  it('accepts what the fake sends and flags an envelope without event_id', () => {
    const ws = createWorkspace();
    const envelope = eventEnvelope(
      ws,
      { type: 'message', channel: 'C1', user: 'U1', text: 'x', ts: '1.2' },
      'Ev1',
    );
    expect(slackEnvelopeViolations([envelope])).toEqual([]);
    const { event_id: _dropped, ...broken } = envelope;
    expect(slackEnvelopeViolations([broken])).toEqual([
      "envelope (no event_id): / must have required property 'event_id'",
    ]);
  });

  it('leaves url_verification alone (the description has no schema for it)', () => {
    expect(slackEnvelopeViolations([{ type: 'url_verification', challenge: 'c' }])).toEqual([]);
  });
});
