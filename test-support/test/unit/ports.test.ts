import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, portShare } from '../../system/ports.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('freePort', () => {
  it('When a port is asked for, then it lies below the kernel’s ephemeral range, where no outgoing connection or listen on port 0 can take it', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
  });

  it('When ports are asked for one after another, then none is handed out twice, though each was closed again', async () => {
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('When the next port is taken by someone else, then another one is handed out', async () => {
    const first = await freePort();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(first + 1, '127.0.0.1', resolve));
    try {
      const port = await freePort();
      expect(port).not.toBe(first + 1);
      expect(port).toBeLessThan(ephemeralLow);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('When vitest workers run side by side, then their shares of ports do not overlap', () => {
    const shares = [0, 1, 2, 3, 4, 5, 6, 7].map((poolId) => portShare(poolId, 32768));
    for (const [index, share] of shares.entries()) {
      expect(share.first).toBeGreaterThanOrEqual(1024);
      expect(share.first + share.size).toBeLessThanOrEqual(32768);
      const following = shares[index + 1];
      if (following) expect(share.first + share.size).toBeLessThanOrEqual(following.first);
    }
  });
});
