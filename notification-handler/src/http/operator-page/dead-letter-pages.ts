import { AppError, parseRequest } from '@notify/shared/platform';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDependencies } from '../../app.js';
import { BrokerUnavailableError } from '../../messaging/broker-inspector.js';
import type { DeadLetterOutcome } from '../../messaging/dead-letter-queue.js';
import { guardPageForm } from '../operator-auth/operator-guards.js';
import { sendConfirmation } from './confirm-view.js';
import { describeLetter, renderDeadLetters } from './dead-letters-view.js';
import { href, html } from './html.js';
import { layoutFor } from './layout-for.js';

/** Messages the page reads off the head of the queue; an action looks this far for its message. */
const SHOWN = 50;

const ActionParams = z.object({
  key: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'is not a dead letter key this page gave out'),
  action: z.enum(['replay', 'discard']),
});
const DoneQuery = z.object({ done: z.enum(['replayed', 'discarded']).optional() });

export function deadLetterPages({ operator }: AppDependencies): Router {
  const router = Router();
  const { access, deadLetters } = operator;

  router.get('/operator/dead-letters', async (req, res) => {
    const { done } = parseRequest(DoneQuery, req.query, 'query');
    const letters = await available(() => deadLetters.peek(SHOWN));
    layoutFor(res, access).send(200, 'Dead letters', renderDeadLetters(letters, SHOWN, done));
  });

  router.get('/operator/dead-letters/:key/:action', async (req, res) => {
    const { key, action } = parseRequest(ActionParams, req.params, 'params');
    const letter = (await available(() => deadLetters.peek(SHOWN))).find((each) => each.key === key);
    if (!letter) throw new AppError(404, 'not_found', 'that message is no longer at the head of the dead-letter queue');
    if (action === 'replay' && !letter.replayable) throw notReplayable(letter.reason);
    sendConfirmation(res, layoutFor(res, access).context, {
      title: action === 'replay' ? 'Send this message back to the work queue?' : 'Discard this message?',
      details: html`${describeLetter(letter)}<p>${
        action === 'replay'
          ? "It goes to the handler's own work queue, marked as a replay, and leaves the dead-letter queue once the broker confirmed it."
          : 'It is removed from the dead-letter queue for good.'
      }</p>`,
      action: `/operator/dead-letters/${key}/${action}`,
      button: action === 'replay' ? 'Replay' : 'Discard',
      danger: action === 'discard',
      cancel: '/operator/dead-letters',
    });
  });

  router.post('/operator/dead-letters/:key/:action', ...guardPageForm(access), async (req, res) => {
    const { key, action } = parseRequest(ActionParams, req.params, 'params');
    const outcome = await available(() => deadLetters.act(key, action, SHOWN * 2));
    res.redirect(303, href('/operator/dead-letters', { done: doneOrThrow(outcome) }));
  });

  return router;
}

function doneOrThrow(outcome: DeadLetterOutcome): 'replayed' | 'discarded' {
  switch (outcome.kind) {
    case 'replayed':
    case 'discarded':
      return outcome.kind;
    case 'not_found':
      throw new AppError(404, 'not_found', 'that message is no longer at the head of the dead-letter queue');
    case 'not_replayable':
      throw notReplayable(outcome.reason);
    case 'not_queued':
      throw new AppError(503, 'broker_unavailable', `not sent back: ${outcome.reason}`);
  }
}

function notReplayable(reason: string): AppError {
  return new AppError(409, 'not_replayable', `it is not a valid notification (${reason}): it can only be discarded`);
}

async function available<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BrokerUnavailableError) throw new AppError(503, 'broker_unavailable', error.message);
    throw error;
  }
}
