import { describe, expect, it } from 'vitest';
import { directMessagesOn } from '../../adapters/platforms.js';
import { loadConfig } from '../../src/config.js';

// Where a running process sends reminders, re-confirmation requests and escalations: on the
// platforms it runs, never on one it does not (before, a Slack deployment asked people to
// re-confirm their roles in the terminal's shell, where nobody could read it).

const SLACK = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
const DISCORD = { DISCORD_BOT_TOKEN: 't', DISCORD_APPLICATION_ID: '1', DISCORD_GUILD_ID: '2' };

describe('direct messages go to the platforms that run', () => {
  it.each([
    ['Slack alone', SLACK, { directPlatform: 'slack', running: ['slack'] }],
    ['Discord alone', DISCORD, { directPlatform: 'discord', running: ['discord'] }],
    ['both', { ...SLACK, ...DISCORD }, { directPlatform: 'slack', running: ['slack', 'discord'] }],
    ['the shell', {}, { directPlatform: 'shell', running: ['shell'] }],
  ])('%s', (_, env, expected) => {
    expect(directMessagesOn(loadConfig(env))).toEqual(expected);
  });
});
