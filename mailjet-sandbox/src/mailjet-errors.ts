import { randomUUID } from 'node:crypto';

/** One entry of a message's `Errors`, as Mailjet writes it. */
export type MailjetError = {
  ErrorIdentifier: string;
  ErrorCode: string;
  StatusCode: number;
  ErrorMessage: string;
  ErrorRelatedTo: string[];
};

export function messageError(code: string, message: string, relatedTo: string[], status = 400): MailjetError {
  return {
    ErrorIdentifier: randomUUID(),
    ErrorCode: code,
    StatusCode: status,
    ErrorMessage: message,
    ErrorRelatedTo: relatedTo,
  };
}

/** A message whose sender the account has not verified (send-0008, related to From, status 403). */
export function unauthorizedSender(email: string): MailjetError {
  return messageError(
    'send-0008',
    `"${email}" is not an authorized sender email address for your account.`,
    ['From'],
    403,
  );
}

/** A whole-request error: the body has no `Messages`, and node-mailjet copies these fields onto its Error. */
export type GlobalError = {
  ErrorIdentifier: string;
  ErrorCode?: string;
  ErrorMessage: string;
  StatusCode: number;
  ErrorRelatedTo?: string[];
};

export function malformedJson(): GlobalError {
  return {
    ErrorIdentifier: randomUUID(),
    ErrorCode: 'mj-0002',
    ErrorMessage: 'Malformed JSON, please review the syntax and properties types.',
    StatusCode: 400,
  };
}

export function globalError(code: string, message: string, relatedTo: string[]): GlobalError {
  return {
    ErrorIdentifier: randomUUID(),
    ErrorCode: code,
    ErrorMessage: message,
    StatusCode: 400,
    ErrorRelatedTo: relatedTo,
  };
}

/** Mailjet's 401 carries no ErrorCode; its field order is kept. */
export function unauthorized(): GlobalError {
  return {
    ErrorIdentifier: randomUUID(),
    StatusCode: 401,
    ErrorMessage:
      'API key authentication/authorization failure. You may be unauthorized to access the API or your API key may be expired. Visit API keys management section to check your keys.',
  };
}

export function internalServerError(): GlobalError {
  return {
    ErrorIdentifier: randomUUID(),
    StatusCode: 500,
    ErrorMessage: 'Internal Server Error. Please contact our support team with the ErrorIdentifier.',
  };
}
