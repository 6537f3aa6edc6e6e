import { parseRequest } from '@notify/shared/platform';
import { Router } from 'express';
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

  return router;
}
