import type { RequestHandler, Response } from 'express';
import type { OperatorAccess } from '../operator-auth/operator-access.js';
import { identifyOperator, operatorOf, sessionOf, unauthorized } from '../operator-auth/operator-guards.js';
import type { PageContext } from './layout.js';
import { sendSignIn } from './sign-in-view.js';

/** A browser that is not signed in gets the sign-in form (still a 401); any other client the JSON error. */
export function guardPage(access: OperatorAccess): RequestHandler {
  return (req, res, next) => {
    const operator = identifyOperator(req, access);
    if (operator) {
      res.locals.operator = operator;
      return next();
    }
    const error = unauthorized(res);
    if (req.accepts(['application/json', 'text/html']) === 'text/html') return sendSignIn(res, 401);
    next(error);
  };
}

export function pageContext(res: Response, access: OperatorAccess): PageContext {
  return { csrf: access.csrfToken(sessionOf(res)), signedIn: operatorOf(res).via === 'cookie' };
}
