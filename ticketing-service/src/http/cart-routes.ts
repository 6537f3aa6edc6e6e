import { AppError, parseRequest } from '@notify/shared/platform';
import { type ErrorRequestHandler, Router } from 'express';
import { addTicketToCart } from '../domain/add-ticket-to-cart.js';
import { checkoutCart } from '../domain/checkout-cart.js';
import { createCart } from '../domain/create-cart.js';
import { getCart } from '../domain/load-cart.js';
import { type CommandDependencies, runCommand } from '../domain/run-command.js';
import { commandRequest } from './command-request.js';
import { AddTicketBody, CartParams, CreateCartBody } from './request-schemas.js';
import { respond } from './respond.js';

export function cartRoutes(deps: CommandDependencies): Router {
  const router = Router();

  router.post('/carts', async (req, res) => {
    const { customer, tickets } = parseRequest(CreateCartBody, req.body, 'body');
    const outcome = await runCommand(deps, commandRequest(req, res), async (context) => ({
      status: 201,
      body: await createCart(context, customer, tickets),
    }));
    respond(res, outcome);
  });

  router.get('/carts/:cartId', async (req, res) => {
    const { cartId } = parseRequest(CartParams, req.params, 'params');
    res.json(await getCart(deps.pool, cartId));
  });

  router.post('/carts/:cartId/tickets', async (req, res) => {
    const { cartId } = parseRequest(CartParams, req.params, 'params');
    const request = parseRequest(AddTicketBody, req.body, 'body');
    const outcome = await runCommand(deps, commandRequest(req, res), async (context) => ({
      status: 201,
      body: await addTicketToCart(context, cartId, request),
    }));
    respond(res, outcome);
  });

  router.post('/carts/:cartId/checkout', async (req, res) => {
    const { cartId } = parseRequest(CartParams, req.params, 'params');
    const outcome = await runCommand(deps, commandRequest(req, res), async (context) => ({
      status: 201,
      body: await checkoutCart(context, cartId),
    }));
    respond(res, outcome);
  });

  router.use(malformedCartId);
  return router;
}

/**
 * Routing decodes `:cartId` before any handler runs, and a malformed percent-escape (`/carts/%ZZ`)
 * fails there with a URIError that names no field: answered as it came, a 400 `bad_request`
 * without the details every other wrong cart id gets. `cartId` is the only parameter of these routes.
 */
const malformedCartId: ErrorRequestHandler = (error, _req, _res, next) => {
  if (!(error instanceof URIError)) return next(error);
  next(
    new AppError(400, 'validation_failed', 'invalid params: params.cartId', [
      { field: 'params.cartId', message: 'is not valid percent-encoding' },
    ]),
  );
};
