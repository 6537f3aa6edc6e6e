import { type SendGridError, sendGridError } from './sendgrid-errors.js';
import { EMAIL, inDomain, isObject } from './validate-messages.js';

export const MAX_PERSONALIZATIONS = 1_000;
/** To, cc and bcc of every personalization together. */
export const MAX_SENDGRID_RECIPIENTS = 1_000;
export const MAX_ADDRESS_LENGTH = 320;
/** The merged custom_args of a personalization must stay under this, as JSON. */
export const MAX_CUSTOM_ARGS_BYTES = 10_000;
export const SENDGRID_RECIPIENT_KINDS = ['to', 'cc', 'bcc'] as const;
export type SendGridRecipientKind = (typeof SENDGRID_RECIPIENT_KINDS)[number];

type Json = Record<string, unknown>;
export type SendGridAddress = { email: string; name?: string };
export type SendGridPersonalization = Json & { to: SendGridAddress[]; cc?: SendGridAddress[]; bcc?: SendGridAddress[] };
/** A request that passed validation, in SendGrid's field names. */
export type MailSendRequest = Json & { personalizations: SendGridPersonalization[] };

export type CheckedMailSend = { ok: true; request: MailSendRequest } | { ok: false; errors: SendGridError[] };

const isMissing = (value: unknown) => value === undefined || value === null;
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Validates a Mail Send body as SendGrid does: the whole request is accepted or refused (unlike
 * Mailjet, there is no per-message outcome), and a 400 lists one entry per problem, each naming its
 * field. `failDomain` (the `failRecipients` fault) refuses recipients in that domain.
 */
export function checkMailSend(body: unknown, failDomain: string | null): CheckedMailSend {
  if (!isObject(body)) return { ok: false, errors: [sendGridError('The request body must be a JSON object.', null)] };
  const usesTemplate = isText(body.template_id);
  const errors = [
    ...checkFrom(body),
    ...checkPersonalizations(body.personalizations, failDomain),
    ...(usesTemplate ? [] : checkSubject(body)),
    ...(usesTemplate ? [] : checkContent(body.content)),
    ...checkCustomArgs(body.custom_args, 'custom_args'),
    ...checkCustomArgsSize(body),
    ...checkHeaders(body.headers, 'headers'),
    ...checkCategories(body.categories),
  ];
  return errors.length === 0 ? { ok: true, request: body as MailSendRequest } : { ok: false, errors };
}

function checkFrom(body: Json): SendGridError[] {
  const { from } = body;
  if (!isObject(from) || isMissing(from.email)) {
    const text =
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.';
    return [sendGridError(text, 'from.email', 'message.from')];
  }
  const errors = checkEmail(
    from.email,
    'from.email',
    'message.from',
    'The from email does not contain a valid address.',
  );
  if (!isMissing(body.reply_to)) {
    const replyTo = isObject(body.reply_to) ? body.reply_to.email : undefined;
    const text = 'The reply_to email does not contain a valid address.';
    errors.push(...checkEmail(replyTo, 'reply_to.email', 'message.reply_to', text));
  }
  return [...errors, ...checkReplyToList(body), ...checkName(from.name, 'from.name')];
}

export const MAX_REPLY_TO_LIST = 1_000;

/** reply_to_list: up to 1000 addresses, and never beside reply_to (one or the other). */
function checkReplyToList(body: Json): SendGridError[] {
  const list = body.reply_to_list;
  if (isMissing(list)) return [];
  if (!isMissing(body.reply_to)) {
    return [sendGridError('The reply_to and reply_to_list fields cannot both be given.', 'reply_to_list')];
  }
  if (!Array.isArray(list) || list.length > MAX_REPLY_TO_LIST) {
    const text = `The reply_to_list must be an array of at most ${MAX_REPLY_TO_LIST} email objects.`;
    return [sendGridError(text, 'reply_to_list')];
  }
  return list.flatMap((entry: unknown, index) =>
    checkEmail(isObject(entry) ? entry.email : undefined, `reply_to_list.${index}.email`, 'message.reply_to_list'),
  );
}

/** `anchor` is the section of SendGrid's errors page its `help` links to, as its real answers do. */
function checkEmail(email: unknown, field: string, anchor: string, message?: string): SendGridError[] {
  const valid = typeof email === 'string' && email.length <= MAX_ADDRESS_LENGTH && EMAIL.test(email);
  return valid ? [] : [invalidAddress(field, anchor, message)];
}

function invalidAddress(field: string, anchor: string, message = 'Does not contain a valid address.'): SendGridError {
  return sendGridError(message, field, anchor);
}

/** SendGrid's help for a bad `to` address links to `#message.personalizations.to`. */
const recipientAnchor = (kind: SendGridRecipientKind) =>
  kind === 'to' ? 'message.personalizations.to' : 'message.personalizations';

/** A display name may not hold ';' or ',' (the separators of an address list). */
function checkName(name: unknown, field: string): SendGridError[] {
  if (isMissing(name)) return [];
  if (typeof name === 'string' && !/[;,]/.test(name)) return [];
  return [sendGridError("The name must be a string without ';' or ','.", field, 'message.personalizations')];
}

function checkPersonalizations(value: unknown, failDomain: string | null): SendGridError[] {
  if (!Array.isArray(value) || value.length === 0) {
    const text = 'The personalizations field is required and must have at least one personalization.';
    return [sendGridError(text, 'personalizations', 'message.personalizations')];
  }
  if (value.length > MAX_PERSONALIZATIONS) {
    const text = `The personalizations field may hold at most ${MAX_PERSONALIZATIONS} personalizations per request; it holds ${value.length}.`;
    return [sendGridError(text, 'personalizations', 'message.personalizations')];
  }
  const errors: SendGridError[] = [];
  let recipients = 0;
  value.forEach((personalization, index) => {
    const checked = checkPersonalization(personalization, `personalizations.${index}`, failDomain);
    recipients += checked.recipients;
    errors.push(...checked.errors);
  });
  if (recipients > MAX_SENDGRID_RECIPIENTS) {
    const text = `The total number of recipients must be no more than ${MAX_SENDGRID_RECIPIENTS}. This includes all recipients defined within the to, cc, and bcc parameters, across each of the objects that you include in the personalizations array.`;
    errors.push(sendGridError(text, 'personalizations', 'message.personalizations'));
  }
  return errors;
}

function checkPersonalization(
  value: unknown,
  path: string,
  failDomain: string | null,
): { errors: SendGridError[]; recipients: number } {
  if (!isObject(value)) return { errors: [sendGridError('A personalization must be an object.', path)], recipients: 0 };
  const errors: SendGridError[] = [];
  const seen = new Set<string>();
  let recipients = 0;
  for (const kind of SENDGRID_RECIPIENT_KINDS) {
    const list = value[kind];
    if (kind === 'to' && (!Array.isArray(list) || list.length === 0)) {
      const text =
        'The to array is required for all personalization objects, and must have at least one email object with a valid email address.';
      errors.push(sendGridError(text, `${path}.to`, 'message.personalizations.to'));
      continue;
    }
    if (isMissing(list)) continue;
    if (!Array.isArray(list)) {
      errors.push(sendGridError(`The ${kind} field must be an array of email objects.`, `${path}.${kind}`));
      continue;
    }
    recipients += list.length;
    list.forEach((recipient: unknown, index) => {
      const field = `${path}.${kind}.${index}`;
      const email = isObject(recipient) ? recipient.email : undefined;
      const name = isObject(recipient) ? recipient.name : undefined;
      const anchor = recipientAnchor(kind);
      errors.push(...checkEmail(email, `${field}.email`, anchor), ...checkName(name, `${field}.name`));
      if (typeof email !== 'string') return;
      // The fault stands for an address SendGrid refuses: the same answer as a malformed one.
      if (failDomain !== null && inDomain(email, failDomain)) errors.push(invalidAddress(`${field}.email`, anchor));
      const key = email.toLowerCase();
      if (seen.has(key)) errors.push(duplicate(email, `${path}.${kind}`));
      seen.add(key);
    });
  }
  const own = [
    ...checkCustomArgs(value.custom_args, `${path}.custom_args`),
    ...checkHeaders(value.headers, `${path}.headers`),
  ];
  return { errors: [...errors, ...own], recipients };
}

function duplicate(email: string, field: string): SendGridError {
  const text = `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${email}] in the ${field} field.`;
  return sendGridError(text, field, 'message.recipient_errors');
}

function checkSubject(body: Json): SendGridError[] {
  if (isText(body.subject)) return [];
  const personalizations = Array.isArray(body.personalizations) ? body.personalizations : [];
  const everyOneHasOne =
    personalizations.length > 0 && personalizations.every((p: unknown) => isObject(p) && isText(p.subject));
  if (everyOneHasOne) return [];
  const text =
    'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.';
  return [sendGridError(text, 'subject', 'message.subject')];
}

/** text/plain first, then text/html, then any other type (RFC 1341, section 7.2). */
const contentRank = (type: string) => (type === 'text/plain' ? 0 : type === 'text/html' ? 1 : 2);

function checkContent(value: unknown): SendGridError[] {
  if (!Array.isArray(value) || value.length === 0) {
    const text =
      'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.';
    return [sendGridError(text, 'content', 'message.content')];
  }
  const errors: SendGridError[] = [];
  const ranks: number[] = [];
  value.forEach((entry: unknown, index) => {
    const type = isObject(entry) ? entry.type : undefined;
    const text = isObject(entry) ? entry.value : undefined;
    if (!isText(type)) {
      const message = 'The content type must be a string at least one character in length.';
      errors.push(sendGridError(message, `content.${index}.type`, 'message.content.type'));
    } else ranks.push(contentRank(type));
    if (!isText(text)) {
      const message = 'The content value must be a string at least one character in length.';
      errors.push(sendGridError(message, `content.${index}.value`, 'message.content.value'));
    }
  });
  if (ranks.some((rank, index) => index > 0 && rank < (ranks[index - 1] as number))) {
    const text =
      'Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent in your email: text/plain needs to be first, followed by text/html, followed by any other content.';
    errors.push(sendGridError(text, 'content'));
  }
  return errors;
}

/** An object of string values, not empty: SendGrid's spec types it wrong (a string); real calls send an object. */
function checkCustomArgs(value: unknown, field: string): SendGridError[] {
  if (isMissing(value)) return [];
  const valid =
    isObject(value) && Object.keys(value).length > 0 && Object.values(value).every((v) => typeof v === 'string');
  return valid
    ? []
    : [sendGridError('The custom_args must be an object of string values, not empty.', field, 'message.custom_args')];
}

/** The headers SendGrid sets itself, or takes from other fields: a request may not set them. */
const RESERVED_HEADERS = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);

/** An object of string values with ASCII keys, none reserved nor given twice (in any case). */
function checkHeaders(value: unknown, field: string): SendGridError[] {
  if (isMissing(value)) return [];
  const problem = !isObject(value)
    ? 'The headers must be an object of string values.'
    : headersProblem(Object.entries(value));
  return problem === undefined ? [] : [sendGridError(problem, field, 'message.headers')];
}

function headersProblem(entries: Array<[string, unknown]>): string | undefined {
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    if (typeof value !== 'string') return `The header ${name} must have a string value.`;
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) return `The header name ${name} must be printable ASCII without ':'.`;
    if (RESERVED_HEADERS.has(key)) return `The header ${name} is reserved and may not be set in headers.`;
    if (seen.has(key)) return `The header ${name} is given more than once.`;
    seen.add(key);
  }
  return undefined;
}

export const MAX_CATEGORIES = 10;
export const MAX_CATEGORY_LENGTH = 255;

/** At most 10 categories, each an ASCII string of at most 255 characters, none repeated. */
function checkCategories(value: unknown): SendGridError[] {
  if (isMissing(value)) return [];
  const valid =
    Array.isArray(value) &&
    value.length <= MAX_CATEGORIES &&
    new Set(value).size === value.length &&
    value.every((c) => typeof c === 'string' && c.length <= MAX_CATEGORY_LENGTH && /^[ -~]*$/.test(c));
  const text = `The categories must be at most ${MAX_CATEGORIES} unique printable ASCII strings of at most ${MAX_CATEGORY_LENGTH} characters each.`;
  return valid ? [] : [sendGridError(text, 'categories', 'message.categories')];
}

/** Each personalization's custom_args, merged over the message's, must stay under 10,000 bytes. */
function checkCustomArgsSize(body: Json): SendGridError[] {
  const top = isObject(body.custom_args) ? body.custom_args : {};
  const personalizations = Array.isArray(body.personalizations) ? body.personalizations : [];
  const tooLarge = personalizations.some((p: unknown) => {
    const own = isObject(p) && isObject(p.custom_args) ? p.custom_args : {};
    return Buffer.byteLength(JSON.stringify({ ...top, ...own })) >= MAX_CUSTOM_ARGS_BYTES;
  });
  const text = `The custom_args of each personalization, merged with the message's, must be under ${MAX_CUSTOM_ARGS_BYTES} bytes.`;
  return tooLarge ? [sendGridError(text, 'custom_args', 'message.custom_args')] : [];
}
