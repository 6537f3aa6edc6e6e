import { loadConfig } from '../../notification-handler/src/config.js';

/**
 * The PREFETCH the handler runs at when nobody sets it, read from its own config: "on default
 * settings" then follows the handler when its default changes. An empty env, so that a PREFETCH
 * in the shell that started the bench does not pass for the default.
 */
export function handlerDefaultPrefetch(): number {
  return loadConfig({}).PREFETCH;
}
