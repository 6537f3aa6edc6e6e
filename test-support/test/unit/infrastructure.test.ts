import { describe, expect, it } from 'vitest';
import { chooseInfrastructure, NO_INFRASTRUCTURE_MESSAGE } from '../../infrastructure.js';

// Port 1 on loopback: nothing listens there, so a connection is refused at once.
const NOWHERE = { amqpUrl: 'amqp://guest:guest@127.0.0.1:1', databaseUrl: 'postgres://postgres@127.0.0.1:1/postgres' };

describe('choosing infrastructure for integration tests', () => {
  it('When URLs are set but nothing answers there, then it fails naming what is down and the three ways', async () => {
    const env = { AMQP_URL: NOWHERE.amqpUrl, DATABASE_URL: NOWHERE.databaseUrl };

    const attempt = chooseInfrastructure(env);

    await expect(attempt).rejects.toThrow(
      'RabbitMQ and PostgreSQL did not answer at the URLs given by AMQP_URL and DATABASE_URL',
    );
    await expect(attempt).rejects.toThrow(NO_INFRASTRUCTURE_MESSAGE);
  });

  it('When no URL is set, no Docker engine answers and nothing listens locally, then it fails with the three ways', async () => {
    const attempt = chooseInfrastructure({}, { dockerAnswers: async () => false, local: NOWHERE });

    await expect(attempt).rejects.toThrow(NO_INFRASTRUCTURE_MESSAGE);
  });
});
