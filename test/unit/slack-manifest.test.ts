import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { concordCommands } from '../../src/commands/registry.js';

const manifest = parse(
  readFileSync(new URL('../../adapters/slack/manifest.yaml', import.meta.url), 'utf8'),
) as {
  features: { slash_commands: { command: string; url: string; should_escape: boolean }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url: string };
    interactivity: { request_url: string };
  };
};

describe('the Slack app manifest', () => {
  it('declares exactly the commands the registry has, each at /slack/events with mentions escaped', () => {
    const declared = manifest.features.slash_commands.map((c) => c.command).sort();
    const registered = concordCommands()
      .commands.map((c) => `/${c.name}`)
      .sort();
    expect(declared).toEqual(registered);
    for (const command of manifest.features.slash_commands) {
      expect(new URL(command.url).pathname).toBe('/slack/events');
      // Escaped mentions arrive as <@U123|name>, which the parser resolves by platform identity.
      expect(command.should_escape).toBe(true);
    }
  });

  it('sends events and button presses to the same endpoint', () => {
    expect(new URL(manifest.settings.event_subscriptions.request_url).pathname).toBe(
      '/slack/events',
    );
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe('/slack/events');
  });

  it('asks for the scopes incident channels need', () => {
    for (const scope of [
      'commands',
      'chat:write',
      'channels:manage',
      'groups:write',
      'pins:write',
      'im:write',
      'channels:history',
      'groups:history',
    ]) {
      expect(manifest.oauth_config.scopes.bot).toContain(scope);
    }
  });
});
