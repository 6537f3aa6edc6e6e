import type { Response } from 'express';
import type { CommandOutcome } from '../domain/run-command.js';

export function respond(res: Response, outcome: CommandOutcome): void {
  // Tells a client that this answer is the stored one and that nothing happened again.
  if (outcome.replayed) res.set('Idempotent-Replayed', 'true');
  res.status(outcome.status).json(outcome.body);
}
