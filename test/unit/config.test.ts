import { describe, expect, it } from 'vitest';
import { ConfigError, discordEnabled, loadConfig, slackEnabled } from '../../src/config.js';

type Env = Record<string, string | undefined>;

const PUBLIC_KEY = 'a1'.repeat(32);

/** The ConfigError `env` is rejected with; fails the test if it loads or fails otherwise. */
function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('applies the defaults of design section 5 to an empty environment', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.CONCORD_DATA_DIR).toBe('.concord');
    expect(config.CONCORD_ADMINS).toEqual([]);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(slackEnabled(config)).toBe(false);
    expect(discordEnabled(config)).toBe(false);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ HOME: '/root', PATH: '/bin' }).PORT).toBe(3000);
  });

  it('reads the values it is given', () => {
    const config = loadConfig({
      PORT: '8080',
      CONCORD_DATA_DIR: '/var/lib/concord',
      DATABASE_URL: 'postgres://concord@db:5432/concord',
      REDIS_URL: 'redis://cache:6379',
      LOG_LEVEL: 'debug',
    });
    expect(config.PORT).toBe(8080);
    expect(config.CONCORD_DATA_DIR).toBe('/var/lib/concord');
    expect(config.DATABASE_URL).toBe('postgres://concord@db:5432/concord');
    expect(config.REDIS_URL).toBe('redis://cache:6379');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({ DATABASE_URL: '', REDIS_URL: '  ', SLACK_BOT_TOKEN: ' ' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.SLACK_BOT_TOKEN).toBeUndefined();
  });

  it('treats an empty PORT as unset, falling back to 3000', () => {
    // `PORT=` in an env file or `PORT=${PORT}` in compose must not bind a random port (0).
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });

  it('accepts postgresql:// as well as postgres://', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).DATABASE_URL).toBe(
      'postgresql://u@h/db',
    );
  });

  describe('CONCORD_ADMINS', () => {
    it('reads platform:userId pairs', () => {
      expect(loadConfig({ CONCORD_ADMINS: 'slack:U1,discord:2' }).CONCORD_ADMINS).toEqual([
        'slack:U1',
        'discord:2',
      ]);
    });

    it('trims entries and skips empty ones', () => {
      expect(
        loadConfig({ CONCORD_ADMINS: ' slack:U1 , shell:me,, discord:123 ,' }).CONCORD_ADMINS,
      ).toEqual(['slack:U1', 'shell:me', 'discord:123']);
    });

    it.each(['slack:U1,bogus', 'irc:someone', 'slack:', ':U1', 'slack:U1:extra'])(
      'rejects %s, naming CONCORD_ADMINS',
      (admins) => {
        const error = configError({ CONCORD_ADMINS: admins });
        expect(error.message).toMatch(/CONCORD_ADMINS/);
        expect(error.message).toMatch(/platform:userId/);
      },
    );
  });

  describe('PORT', () => {
    it.each(['abc', '70000', '-1', '3.5', '80a'])('rejects PORT=%s, naming PORT', (port) => {
      const error = configError({ PORT: port });
      expect(error.name).toBe('ConfigError');
      expect(error.message).toMatch(/\bPORT\b/);
    });

    it('accepts the edges of the port range', () => {
      expect(loadConfig({ PORT: '65535' }).PORT).toBe(65535);
      expect(loadConfig({ PORT: '1' }).PORT).toBe(1);
    });
  });

  describe('URLs', () => {
    it.each([
      ['DATABASE_URL', 'mysql://x'],
      ['DATABASE_URL', 'not a url'],
      ['REDIS_URL', 'http://cache:6379'],
      ['SLACK_API_URL', 'ftp://slack.example'],
      ['DISCORD_API_URL', 'discord.example'],
    ])('rejects %s=%s, naming it', (name, value) => {
      expect(configError({ [name]: value }).message).toMatch(new RegExp(`\\b${name}\\b`));
    });
  });

  it('rejects an unknown LOG_LEVEL, naming it', () => {
    expect(configError({ LOG_LEVEL: 'verbose' }).message).toMatch(/LOG_LEVEL/);
  });

  describe('Slack', () => {
    it('turns on with both variables', () => {
      const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abc' });
      expect(slackEnabled(config)).toBe(true);
    });

    it('names SLACK_SIGNING_SECRET when only the token is set', () => {
      const error = configError({ SLACK_BOT_TOKEN: 'xoxb-1' });
      expect(error.message).toMatch(/SLACK_SIGNING_SECRET: must be set/);
    });

    it('names SLACK_BOT_TOKEN when only the signing secret is set', () => {
      const error = configError({ SLACK_SIGNING_SECRET: 'abc' });
      expect(error.message).toMatch(/SLACK_BOT_TOKEN: must be set/);
    });
  });

  describe('Discord', () => {
    it('turns on with all three variables', () => {
      const config = loadConfig({
        DISCORD_BOT_TOKEN: 't',
        DISCORD_APPLICATION_ID: '1',
        DISCORD_GUILD_ID: '2',
      });
      expect(discordEnabled(config)).toBe(true);
    });

    it('names the missing variable when only some are set', () => {
      const error = configError({ DISCORD_BOT_TOKEN: 't', DISCORD_APPLICATION_ID: '1' });
      expect(error.message).toMatch(/DISCORD_GUILD_ID: must be set/);
      expect(error.message).not.toMatch(/DISCORD_BOT_TOKEN: must be set/);
    });

    it('names every missing variable', () => {
      const error = configError({ DISCORD_GUILD_ID: '2' });
      expect(error.message).toMatch(/DISCORD_BOT_TOKEN: must be set/);
      expect(error.message).toMatch(/DISCORD_APPLICATION_ID: must be set/);
    });

    it('accepts a 64-hex-character DISCORD_PUBLIC_KEY', () => {
      expect(loadConfig({ DISCORD_PUBLIC_KEY: PUBLIC_KEY }).DISCORD_PUBLIC_KEY).toBe(PUBLIC_KEY);
    });

    it.each(['not-a-key', 'a1'.repeat(31), `${'a1'.repeat(32)}00`, 'g'.repeat(64)])(
      'rejects DISCORD_PUBLIC_KEY=%s, naming it',
      (key) => {
        expect(configError({ DISCORD_PUBLIC_KEY: key }).message).toMatch(/DISCORD_PUBLIC_KEY/);
      },
    );
  });

  describe('secrets never appear in error messages', () => {
    const secrets = ['xoxb-secret-123', 'hunter2', 'sig-secret-456'];
    const expectNoSecret = (error: ConfigError) => {
      for (const secret of secrets) expect(error.message).not.toContain(secret);
    };

    it('with a half-configured Slack, a password in DATABASE_URL and a bad PORT', () => {
      const error = configError({
        SLACK_BOT_TOKEN: 'xoxb-secret-123',
        DATABASE_URL: 'postgres://u:hunter2@h/db',
        PORT: 'abc',
      });
      expect(error.message).toMatch(/PORT/);
      expectNoSecret(error);
    });

    it('with a half-configured Slack and a password in DATABASE_URL', () => {
      const error = configError({
        SLACK_BOT_TOKEN: 'xoxb-secret-123',
        DATABASE_URL: 'postgres://u:hunter2@h/db',
      });
      expect(error.message).toMatch(/SLACK_SIGNING_SECRET/);
      expectNoSecret(error);
    });

    it.each([
      ['DATABASE_URL', 'mysql://u:hunter2@h/db'],
      ['REDIS_URL', 'http://:hunter2@cache:6379'],
      ['SLACK_API_URL', 'ftp://xoxb-secret-123@slack.example'],
      ['DISCORD_API_URL', 'hunter2'],
      ['DISCORD_PUBLIC_KEY', 'hunter2'],
    ])('when %s itself is invalid', (name, value) => {
      const error = configError({
        [name]: value,
        SLACK_SIGNING_SECRET: 'sig-secret-456',
        DATABASE_URL: name === 'DATABASE_URL' ? value : 'postgres://u:hunter2@h/db',
      });
      expect(error.message).toMatch(new RegExp(`\\b${name}\\b`));
      expectNoSecret(error);
    });
  });
});
