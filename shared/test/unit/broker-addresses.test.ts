import { brokerAddresses, ConfigError, commonEnv, parseEnv, toConnectOptions } from '@notify/shared/platform';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const parseAmqpUrl = (value: string | undefined) => parseEnv(z.object(commonEnv), { AMQP_URL: value }).AMQP_URL;

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('AMQP_URL', () => {
  it('When it holds one URL, then it is a list of that one', () => {
    expect(parseAmqpUrl('amqp://guest:guest@rabbit:5672')).toEqual(['amqp://guest:guest@rabbit:5672']);
  });

  it('When it lists the nodes of a cluster, then each comes out trimmed, in order', () => {
    expect(parseAmqpUrl(' amqp://a:5672 , amqps://b:5671,amqp://c:5672 ')).toEqual([
      'amqp://a:5672',
      'amqps://b:5671',
      'amqp://c:5672',
    ]);
  });

  it('When it is unset or empty, then it is the local default', () => {
    expect(parseAmqpUrl(undefined)).toEqual(['amqp://guest:guest@localhost:5672']);
    expect(parseAmqpUrl('')).toEqual(['amqp://guest:guest@localhost:5672']);
  });

  it('When one node of the list is not an AMQP URL, then the problem names its position and not the secret', () => {
    const problems = problemsOf(() => parseAmqpUrl('amqp://u:s3cret@a:5672,http://u:s3cret@b,'));

    expect(problems).toEqual([
      'AMQP_URL.1: must be a URL starting with amqp:// or amqps://',
      'AMQP_URL.2: must be a URL starting with amqp:// or amqps://',
    ]);
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('When a URL lacks the // after its scheme, then it is refused instead of connecting to localhost', () => {
    // `amqp:rabbit:5672` parses as a URL with no host: amqplib would connect to localhost, vhost `rabbit:5672`.
    expect(problemsOf(() => parseAmqpUrl('amqp:rabbit:5672'))).toEqual([
      'AMQP_URL.0: must be a URL starting with amqp:// or amqps://',
    ]);
  });
});

describe('DATABASE_URL', () => {
  const parseDatabaseUrl = (value: string) => parseEnv(z.object(commonEnv), { DATABASE_URL: value }).DATABASE_URL;

  it('When it is a postgres:// URL, or one for a Unix socket with an empty host, then it is taken as given', () => {
    expect(parseDatabaseUrl('postgres://app@db:5432/notify')).toBe('postgres://app@db:5432/notify');
    expect(parseDatabaseUrl('postgresql:///notify?host=/var/run/postgresql')).toBe(
      'postgresql:///notify?host=/var/run/postgresql',
    );
  });

  it('When it lacks the // after its scheme, then it is refused instead of connecting to the default host', () => {
    // pg reads `postgres:db:5432/notify` as no host (localhost) and a database named `b:5432/notify`.
    expect(problemsOf(() => parseDatabaseUrl('postgres:db:5432/notify'))).toEqual([
      'DATABASE_URL: must be a URL starting with postgres:// or postgresql://',
    ]);
  });
});

describe('broker addresses', () => {
  it('When a URL is turned into connect options, then credentials are decoded and the heartbeat defaults', () => {
    expect(toConnectOptions('amqps://app:p%40ss%2Cword@rabbit-2:5671/%2Fprod?frameMax=8192', 10)).toEqual({
      protocol: 'amqps',
      hostname: 'rabbit-2',
      port: 5671,
      username: 'app',
      password: 'p@ss,word',
      vhost: '%2Fprod',
      heartbeat: 10,
      frameMax: 8192,
      channelMax: undefined,
      locale: undefined,
    });
  });

  it('When a password holds a % that starts no escape, then it is taken as written instead of stopping the start', () => {
    expect(toConnectOptions('amqp://app:50%off@rabbit:5672', 10)).toMatchObject({
      username: 'app',
      password: '50%off',
    });
  });

  it('When a URL names no user, then amqplib falls back to guest as it does for the string form', () => {
    const options = toConnectOptions('amqp://rabbit?heartbeat=5', 10);

    expect(options).toMatchObject({ username: undefined, password: undefined, port: undefined, heartbeat: 5 });
    expect(options.vhost).toBeUndefined();
  });

  it('When the connection moves on, then the same target object points at the next node, round robin', () => {
    const addresses = brokerAddresses(['amqp://u:one@a:5672', 'amqp://u:two@b:5673'], {
      heartbeatSeconds: 10,
      order: 'as-given',
    });
    const target = addresses.target;

    expect(target).toMatchObject({ hostname: 'a', port: 5672, password: 'one' });
    expect(addresses.current()).toBe('amqp://u:***@a:5672');
    addresses.advance();
    expect(addresses.target).toBe(target);
    expect(target).toMatchObject({ hostname: 'b', port: 5673, password: 'two' });
    expect(addresses.current()).toBe('amqp://u:***@b:5673');
    addresses.advance();
    expect(target).toMatchObject({ hostname: 'a', password: 'one' });
    expect(addresses.describe()).toBe('amqp://u:***@a:5672,amqp://u:***@b:5673');
  });
});
