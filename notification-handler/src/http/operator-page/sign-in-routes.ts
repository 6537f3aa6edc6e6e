import { AppError } from '@notify/shared/platform';
import express, { Router } from 'express';
import type { OperatorAccess } from '../operator-auth/operator-access.js';
import { fromSameOrigin, guardPageForm, identifyOperator } from '../operator-auth/operator-guards.js';
import { clearSessionCookie, setSessionCookie } from '../operator-auth/session-cookie.js';
import { guardPage } from './page-guard.js';
import { sendSignIn } from './sign-in-view.js';

export function signInRoutes(access: OperatorAccess): Router {
  const router = Router();

  router.get('/sign-in', (req, res) => {
    if (identifyOperator(req, access)) return res.redirect(303, '/');
    sendSignIn(res, 200);
  });

  // No session yet, so no CSRF token: the same-origin check keeps other sites from signing a
  // browser in with a token of theirs.
  router.post('/sign-in', express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 5 }), (req, res) => {
    if (!fromSameOrigin(req)) throw new AppError(403, 'cross_origin', 'sign in from this page');
    if (access.mode === 'open') return res.redirect(303, '/');
    const token: unknown = req.body?.token;
    if (typeof token !== 'string' || !access.tokenMatches(token))
      return sendSignIn(res, 401, 'That is not the operator token.');
    setSessionCookie(req, res, access.openSession().cookie);
    res.redirect(303, '/');
  });

  router.post('/sign-out', guardPage(access), ...guardPageForm(access), (req, res) => {
    const operator = res.locals.operator;
    if (operator?.via === 'cookie') access.closeSession(operator.session);
    clearSessionCookie(req, res);
    res.redirect(303, '/sign-in');
  });

  return router;
}
