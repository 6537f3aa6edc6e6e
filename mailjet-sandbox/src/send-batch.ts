import {
  type GlobalError,
  globalError,
  type MailjetError,
  malformedJson,
  unauthorizedSender,
} from './mailjet-errors.js';
import { MESSAGE_HREF_PREFIX } from './mailjet-ids.js';
import type { StoredMessage, StoredRecipient } from './message-store.js';
import {
  type AcceptedMessage,
  type CheckedMessage,
  checkMessage,
  inDomain,
  invalidEmail,
  isObject,
  MAX_RECIPIENTS,
  RECIPIENT_KINDS,
  type RecipientKind,
} from './validate-messages.js';

export const MAX_MESSAGES = 50;

export type SendRequest = { messages: unknown[]; sandboxMode: boolean; globals: Record<string, unknown> | undefined };

export type BatchContext = {
  nextId: () => string;
  nextUuid: () => string;
  /** Recipients in this domain get a per-message error (the `failRecipients` fault); null: none. */
  failDomain: string | null;
  /** Senders in this domain are not verified for the account (the `refuseSenders` fault); null: none. */
  refusedSenderDomain: string | null;
};

/** What the endpoint answers and what it keeps. The body is JSON text: MessageIDs are bare integers > 2^53. */
export type BatchOutcome = { status: 200 | 400 | 403; body: string; accepted: StoredMessage[] };

/** Errors that concern the whole call answer with a global error body, with no `Messages`. */
export function parseSendRequest(text: string): { ok: true; request: SendRequest } | { ok: false; error: GlobalError } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: malformedJson() };
  }
  if (!isObject(parsed)) return { ok: false, error: malformedJson() };
  const { Messages: messages, Globals: globals, SandboxMode: sandboxMode } = parsed;
  if (messages === undefined || messages === null) {
    return {
      ok: false,
      error: globalError('mj-0003', 'The Messages is mandatory but missing from the input.', ['Messages']),
    };
  }
  if (!Array.isArray(messages) || (globals !== undefined && !isObject(globals))) {
    return { ok: false, error: malformedJson() };
  }
  if (messages.length === 0) {
    return { ok: false, error: globalError('mj-0007', 'The Messages array cannot be empty.', ['Messages']) };
  }
  if (messages.length > MAX_MESSAGES) {
    const text = `The Messages array holds ${messages.length} elements; at most ${MAX_MESSAGES} are allowed.`;
    return { ok: false, error: globalError('mj-0008', text, ['Messages']) };
  }
  // A message over the bound alone gets its own send-0015 entry (validate-messages); a call whose
  // messages are each within it but not together is refused whole.
  const recipients = recipientsIn(messages);
  if (recipients.total > MAX_RECIPIENTS && recipients.largest <= MAX_RECIPIENTS) {
    const text = `The messages of this call have ${recipients.total} recipients in all; at most ${MAX_RECIPIENTS} are allowed.`;
    return { ok: false, error: globalError('send-0015', text, ['Messages']) };
  }
  return { ok: true, request: { messages, sandboxMode: sandboxMode === true, globals } };
}

/** To, Cc and Bcc of every message: Mailjet's 50 bounds a call's recipients as well as its messages. */
function recipientsIn(messages: unknown[]): { total: number; largest: number } {
  let total = 0;
  let largest = 0;
  for (const message of messages) {
    if (!isObject(message)) continue;
    let ofMessage = 0;
    for (const kind of RECIPIENT_KINDS) {
      const list = message[kind];
      if (Array.isArray(list)) ofMessage += list.length;
    }
    total += ofMessage;
    largest = Math.max(largest, ofMessage);
  }
  return { total, largest };
}

/**
 * Answers one entry per message, in input order. Any failed message makes the call a 400, and the
 * valid ones are still accepted: that is how Mailjet behaves, and why a client must retry only the
 * failed entries. A call whose every failure is a sender the account has not verified answers 403
 * (send-0008). In SandboxMode nothing is kept and the ids are empty.
 */
export function sendBatch(request: SendRequest, context: BatchContext, receivedAt: string): BatchOutcome {
  const entries: string[] = [];
  const accepted: StoredMessage[] = [];
  let failed = false;
  let onlySendersRefused = true;
  for (const raw of request.messages) {
    const checked = withSenderFaults(
      withRecipientFaults(checkMessage(raw, request.globals), context.failDomain),
      context.refusedSenderDomain,
    );
    if (!checked.ok) {
      failed = true;
      onlySendersRefused &&= checked.errors.every((error) => error.StatusCode === 403);
      entries.push(`{"Status":"error","Errors":${JSON.stringify(checked.errors)}}`);
      continue;
    }
    const recipients = assignIds(checked.message, request.sandboxMode, context);
    entries.push(successEntry(checked.message, recipients));
    if (!request.sandboxMode) accepted.push(toStored(checked.message, recipients, receivedAt));
  }
  const status = !failed ? 200 : onlySendersRefused ? 403 : 400;
  return { status, body: `{"Messages":[${entries.join(',')}]}`, accepted };
}

/** A message from a sender the account has not verified is refused whatever else it holds. */
function withSenderFaults(checked: CheckedMessage, refusedDomain: string | null): CheckedMessage {
  if (!checked.ok || refusedDomain === null) return checked;
  // A message sent from a template without From of its own is the template's sender: not checked.
  const sender = (checked.message.From as { Email?: unknown } | undefined)?.Email;
  if (typeof sender !== 'string' || !inDomain(sender, refusedDomain)) return checked;
  return { ok: false, errors: [unauthorizedSender(sender)] };
}

function withRecipientFaults(checked: CheckedMessage, failDomain: string | null): CheckedMessage {
  if (!checked.ok || failDomain === null) return checked;
  const errors: MailjetError[] = [];
  for (const kind of RECIPIENT_KINDS) {
    checked.message[kind]?.forEach(({ Email }, index) => {
      if (inDomain(Email, failDomain)) errors.push(invalidEmail(Email, `${kind}[${index}].Email`));
    });
  }
  return errors.length === 0 ? checked : { ok: false, errors };
}

function assignIds(message: AcceptedMessage, sandboxMode: boolean, context: BatchContext): StoredRecipient[] {
  const recipients: StoredRecipient[] = [];
  for (const Type of RECIPIENT_KINDS) {
    for (const { Email } of message[Type] ?? []) {
      const MessageID = sandboxMode ? '0' : context.nextId();
      const MessageUUID = sandboxMode ? '' : context.nextUuid();
      recipients.push({ Type, Email, MessageUUID, MessageID });
    }
  }
  return recipients;
}

function successEntry(message: AcceptedMessage, recipients: StoredRecipient[]): string {
  const lists: Record<RecipientKind, string[]> = { To: [], Cc: [], Bcc: [] };
  for (const { Type, Email, MessageUUID, MessageID } of recipients) {
    lists[Type].push(
      `{"Email":${JSON.stringify(Email)},"MessageUUID":"${MessageUUID}","MessageID":${MessageID},"MessageHref":"${MESSAGE_HREF_PREFIX}${MessageID}"}`,
    );
  }
  const customId = JSON.stringify(message.CustomID ?? '');
  return `{"Status":"success","CustomID":${customId},"To":[${lists.To.join()}],"Cc":[${lists.Cc.join()}],"Bcc":[${lists.Bcc.join()}]}`;
}

/** The parsed message is the sandbox's own copy: it is completed in place, not copied (hot path). */
function toStored(message: AcceptedMessage, recipients: StoredRecipient[], receivedAt: string): StoredMessage {
  const { MessageID, MessageUUID } = recipients[0] as StoredRecipient;
  return Object.assign(message, {
    provider: 'mailjet' as const,
    MessageID,
    MessageUUID,
    receivedAt,
    Recipients: recipients,
  });
}
