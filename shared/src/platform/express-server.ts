import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

/**
 * An HTTP server for an Express app whose requests and responses are born with the app's
 * prototypes. Express otherwise swaps the prototype of every request and response as it enters the
 * app (`Object.setPrototypeOf` in `app.handle`), and V8 then runs Node's own HTTP code on those
 * objects on its slow paths: against a bare Express app this doubled the server's CPU per request,
 * and the API's whole stack paid about 145 µs a request for it (225 against 80, `npm run
 * bench:http`). Here the app's prototypes are subclasses of Node's, so Express's swap finds the
 * prototype it sets already in place and changes nothing. Mounted sub-apps would still swap
 * theirs; the services mount none.
 *
 * Call it once per app: it changes `app.request` and `app.response`, which is how Express learns
 * the new prototypes. `connectionsCheckingIntervalMs`: how often Node enforces the server's header
 * and request timeouts (its own default, 30 s, would let them run that much late).
 */
export function createExpressServer(app: Express, connectionsCheckingIntervalMs?: number): Server {
  class ExpressRequest extends IncomingMessage {}
  class ExpressResponse extends ServerResponse {}
  // Express's own request and response methods (and `req.app`) stay one link up the chain.
  Object.setPrototypeOf(ExpressRequest.prototype, app.request);
  Object.setPrototypeOf(ExpressResponse.prototype, app.response);
  app.request = ExpressRequest.prototype as unknown as Express['request'];
  app.response = ExpressResponse.prototype as unknown as Express['response'];
  return createServer(
    {
      IncomingMessage: ExpressRequest,
      ServerResponse: ExpressResponse,
      ...(connectionsCheckingIntervalMs ? { connectionsCheckingInterval: connectionsCheckingIntervalMs } : {}),
    },
    app,
  );
}
