import { IncomingMessage, ServerResponse } from 'node:http';
import { vi } from 'vitest';

/**
 * Counts the requests and responses whose prototype is changed after Node created them (Express
 * does it per request unless the server was made by createExpressServer). Prototype objects set up
 * once per server are not counted: only instances, which hold their socket (a request) or their
 * request (a response). Undo with vi.restoreAllMocks().
 */
export function countHttpPrototypeSwaps(): () => number {
  const setPrototypeOf = Object.setPrototypeOf;
  let swaps = 0;
  vi.spyOn(Object, 'setPrototypeOf').mockImplementation((target: object, prototype: object | null) => {
    const instance =
      (target instanceof IncomingMessage && Object.hasOwn(target, 'socket')) ||
      (target instanceof ServerResponse && Object.hasOwn(target, 'req'));
    if (instance && Object.getPrototypeOf(target) !== prototype) swaps += 1;
    return setPrototypeOf(target, prototype);
  });
  return () => swaps;
}
