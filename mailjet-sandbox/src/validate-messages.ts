import { type MailjetError, messageError } from './mailjet-errors.js';

export const MAX_RECIPIENTS = 50;
export const MAX_SUBJECT_LENGTH = 255;
export const RECIPIENT_KINDS = ['To', 'Cc', 'Bcc'] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];

export type Recipient = { Email: string; Name?: string };

/** A message that passed validation, in Mailjet's own field names, with `Globals` merged in. */
export type AcceptedMessage = Record<string, unknown> & {
  To: Recipient[];
  Cc?: Recipient[];
  Bcc?: Recipient[];
  CustomID?: string;
};

export type CheckedMessage = { ok: true; message: AcceptedMessage } | { ok: false; errors: MailjetError[] };

type Json = Record<string, unknown>;

// Mailjet refuses "foo@test" and "x@123.4": the domain needs a dot and an alphabetic (or IDN) TLD.
export const EMAIL =
  /^[^\s@"(),:;<>[\]\\]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,}|xn--[A-Za-z0-9-]+)$/;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isMissing = (value: unknown) => value === undefined || value === null;
const isProvided = (value: unknown) => !isMissing(value) && value !== '';

/**
 * Validates one message on its own, as Mailjet does: every problem it finds is reported, each
 * naming the property it relates to (`To[0].Email`), so that one bad message never hides another.
 */
export function checkMessage(raw: unknown, globals: Json | undefined): CheckedMessage {
  if (!isObject(raw)) return { ok: false, errors: [typeMismatch('Messages', 'object')] };
  const message = globals ? { ...globals, ...raw } : raw;
  const errors = [
    ...checkSender(message),
    ...checkRecipients(message),
    ...checkSubject(message.Subject),
    ...checkContent(message),
    ...checkStringProperty(message, 'CustomID'),
  ];
  return errors.length === 0 ? { ok: true, message: message as AcceptedMessage } : { ok: false, errors };
}

export function checkAddress(value: unknown, path: string): MailjetError[] {
  if (!isObject(value)) return [typeMismatch(path, 'object')];
  const email = value.Email;
  if (isMissing(email)) return [mandatory(`${path}.Email`)];
  if (typeof email !== 'string') return [typeMismatch(`${path}.Email`, 'string')];
  if (email === '') return [messageError('mj-0012', 'Empty string is not allowed for Email.', [`${path}.Email`])];
  if (!EMAIL.test(email)) return [invalidEmail(email, `${path}.Email`)];
  return [];
}

export function invalidEmail(email: string, path: string): MailjetError {
  return messageError('mj-0013', `"${email}" is an invalid email address.`, [path]);
}

function checkSender(message: Json): MailjetError[] {
  const errors = isMissing(message.ReplyTo) ? [] : checkAddress(message.ReplyTo, 'ReplyTo');
  // A template can carry its own sender; without one, From is mandatory.
  if (isMissing(message.From)) return isMissing(message.TemplateID) ? [mandatory('From'), ...errors] : errors;
  return [...checkAddress(message.From, 'From'), ...errors];
}

function checkRecipients(message: Json): MailjetError[] {
  const errors: MailjetError[] = [];
  let total = 0;
  for (const kind of RECIPIENT_KINDS) {
    const list = message[kind];
    if (isMissing(list)) {
      if (kind === 'To') errors.push(mandatory('To'));
      continue;
    }
    if (!Array.isArray(list)) {
      errors.push(typeMismatch(kind, 'array of emails'));
      continue;
    }
    if (kind === 'To' && list.length === 0)
      errors.push(messageError('mj-0007', 'The To array cannot be empty.', ['To']));
    total += list.length;
    list.forEach((recipient, index) => {
      errors.push(...checkAddress(recipient, `${kind}[${index}]`));
    });
  }
  if (total > MAX_RECIPIENTS) {
    const text = `Too many recipients: To, Cc and Bcc hold ${total}, the limit is ${MAX_RECIPIENTS}.`;
    errors.push(messageError('send-0015', text, ['To', 'Cc', 'Bcc']));
  }
  return errors;
}

function checkSubject(subject: unknown): MailjetError[] {
  if (isMissing(subject)) return [];
  if (typeof subject !== 'string') return [typeMismatch('Subject', 'string')];
  // Mailjet counts characters, not UTF-16 units; the spread is only paid for long subjects.
  if (subject.length > MAX_SUBJECT_LENGTH && [...subject].length > MAX_SUBJECT_LENGTH) {
    return [messageError('mj-0006', `Characters limit exceeded. Max allowed: ${MAX_SUBJECT_LENGTH}.`, ['Subject'])];
  }
  return [];
}

function checkContent(message: Json): MailjetError[] {
  const errors = [...checkStringProperty(message, 'TextPart'), ...checkStringProperty(message, 'HTMLPart')];
  if (!isProvided(message.TextPart) && !isProvided(message.HTMLPart) && !isProvided(message.TemplateID)) {
    const text = 'At least "HTMLPart", "TextPart" or "TemplateID" must be provided.';
    errors.push(messageError('send-0003', text, ['HTMLPart', 'TextPart', 'TemplateID']));
  }
  return errors;
}

function checkStringProperty(message: Json, name: string): MailjetError[] {
  const value = message[name];
  return isMissing(value) || typeof value === 'string' ? [] : [typeMismatch(name, 'string')];
}

function mandatory(path: string): MailjetError {
  return messageError('mj-0003', `The ${path} is mandatory but missing from the input.`, [path]);
}

function typeMismatch(path: string, expected: string): MailjetError {
  return messageError('mj-0004', `Type mismatch. Expected type "${expected}".`, [path]);
}

/** Is the address in this domain or one of its subdomains (the faults that name a domain)? */
export function inDomain(email: string, domain: string): boolean {
  const host = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return host === domain || host.endsWith(`.${domain}`);
}
