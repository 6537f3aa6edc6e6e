import { Counter, type Registry } from 'prom-client';
import type { CartCacheOutcome } from '../domain/cart-cache.js';

/**
 * How often commands find their cart in this instance's memory (cart-cache.ts): a high `stale` or
 * `miss` share behind a load balancer means requests of one cart land on several instances, and
 * each then pays the read that the memory saves.
 */
export function registerCartCacheMetrics(registry: Registry): (outcome: CartCacheOutcome) => void {
  const commands = new Counter({
    name: 'notify_api_cart_cache_total',
    help: 'Commands on a cart by where they started: hit (remembered, the write applied), stale (remembered, then read again), miss (read).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const counters = {
    hit: commands.labels('hit'),
    stale: commands.labels('stale'),
    miss: commands.labels('miss'),
  };
  return (outcome) => counters[outcome].inc();
}
