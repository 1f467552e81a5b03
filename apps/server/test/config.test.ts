import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('configuration', () => {
  it('starts with no configuration at all in development, on the embedded SQLite file', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 5000, databaseUrl: 'sqlite:./data/api-users.sqlite' });
    expect(config.jwt.ephemeral).toBe(true);
    expect(config.jwt.secret.length).toBeGreaterThanOrEqual(32);
  });

  it('requires JWT_SECRET outside development', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^JWT_SECRET: required/)]);
  });

  it('names every bad variable on a line of its own', () => {
    const lines = problems({
      PORT: 'eighty',
      DATABASE_URL: 'postgres://x',
      JWT_SECRET: 'short',
      ACCESS_TOKEN_TTL: '5',
      DB_STATEMENT_TIMEOUT: '0',
      SESSION_MAX_AGE: 'forever',
    });
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual([
      'ACCESS_TOKEN_TTL',
      'DATABASE_URL',
      'DB_STATEMENT_TIMEOUT',
      'JWT_SECRET',
      'PORT',
      'SESSION_MAX_AGE',
    ]);
  });
});
