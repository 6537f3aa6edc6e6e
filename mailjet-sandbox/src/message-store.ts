import type { RecipientKind } from './validate-messages.js';

export type StoredRecipient = { Type: RecipientKind; Email: string; MessageUUID: string; MessageID: string };

/**
 * A message as sent (Mailjet's field names, `Globals` merged in) plus what the sandbox gave it:
 * `MessageID` and `MessageUUID` are those of its first To recipient; `Recipients` lists every
 * recipient's. MessageIDs are strings because they exceed 2^53.
 */
export type StoredMessage = Record<string, unknown> & {
  MessageID: string;
  MessageUUID: string;
  receivedAt: string;
  Recipients: StoredRecipient[];
  CustomID?: string;
};

/** `to` matches any recipient (To, Cc or Bcc), ignoring case; `customId` matches exactly. */
export type MessageFilter = { customId?: string | undefined; to?: string | undefined };

export const DEFAULT_MAX_STORED = 10_000;

type Waiter = { filter: MessageFilter; count: number; resolve: (messages: StoredMessage[]) => void };

/**
 * Keeps the newest `maxStored` accepted messages, in the order received. Other suites poll it by
 * CustomID while thousands of messages are stored, so CustomID and recipient lookups use indexes.
 */
export class MessageStore {
  private readonly messages = new Set<StoredMessage>();
  private readonly byCustomId = new Map<string, Set<StoredMessage>>();
  private readonly byRecipient = new Map<string, Set<StoredMessage>>();
  private waiters: Waiter[] = [];

  constructor(readonly maxStored = DEFAULT_MAX_STORED) {}

  get size(): number {
    return this.messages.size;
  }

  add(message: StoredMessage): void {
    this.messages.add(message);
    if (message.CustomID) addToIndex(this.byCustomId, message.CustomID, message);
    for (const email of recipientKeys(message)) addToIndex(this.byRecipient, email, message);
    if (this.messages.size > this.maxStored) this.evictOldest();
    if (this.waiters.length > 0) this.wakeWaiters();
  }

  list(filter: MessageFilter = {}): StoredMessage[] {
    const to = filter.to?.toLowerCase();
    const { customId } = filter;
    const candidates = this.candidates(customId, to);
    if (customId === undefined && to === undefined) return [...candidates];
    return [...candidates].filter(
      (message) =>
        (customId === undefined || message.CustomID === customId) && (to === undefined || sentTo(message, to)),
    );
  }

  clear(): void {
    this.messages.clear();
    this.byCustomId.clear();
    this.byRecipient.clear();
  }

  /** Resolves once at least `count` stored messages match; an event, not a poll. */
  waitFor(filter: MessageFilter, { count = 1, timeoutMs = 5_000 } = {}): Promise<StoredMessage[]> {
    const found = this.list(filter);
    if (found.length >= count) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { filter, count, resolve: (messages) => settle(() => resolve(messages)) };
      const timer = setTimeout(() => settle(() => reject(timeoutError(filter, count, timeoutMs))), timeoutMs);
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((other) => other !== waiter);
        finish();
      };
      this.waiters.push(waiter);
    });
  }

  private candidates(customId: string | undefined, to: string | undefined): Set<StoredMessage> {
    const byId = customId === undefined ? undefined : (this.byCustomId.get(customId) ?? new Set<StoredMessage>());
    const byTo = to === undefined ? undefined : (this.byRecipient.get(to) ?? new Set<StoredMessage>());
    if (byId && byTo) return byId.size <= byTo.size ? byId : byTo;
    return byId ?? byTo ?? this.messages;
  }

  private evictOldest(): void {
    const oldest = this.messages.values().next().value as StoredMessage;
    this.messages.delete(oldest);
    if (oldest.CustomID) removeFromIndex(this.byCustomId, oldest.CustomID, oldest);
    for (const email of recipientKeys(oldest)) removeFromIndex(this.byRecipient, email, oldest);
  }

  private wakeWaiters(): void {
    for (const waiter of this.waiters) {
      const found = this.list(waiter.filter);
      if (found.length >= waiter.count) waiter.resolve(found);
    }
  }
}

const recipientKeys = (message: StoredMessage) => new Set(message.Recipients.map(({ Email }) => Email.toLowerCase()));

const sentTo = (message: StoredMessage, email: string) =>
  message.Recipients.some(({ Email }) => Email.toLowerCase() === email);

function addToIndex(index: Map<string, Set<StoredMessage>>, key: string, message: StoredMessage): void {
  const set = index.get(key);
  if (set) set.add(message);
  else index.set(key, new Set([message]));
}

function removeFromIndex(index: Map<string, Set<StoredMessage>>, key: string, message: StoredMessage): void {
  const set = index.get(key);
  set?.delete(message);
  if (set?.size === 0) index.delete(key);
}

function timeoutError(filter: MessageFilter, count: number, timeoutMs: number): Error {
  return new Error(
    `timed out after ${timeoutMs} ms waiting for ${count} message(s) matching ${JSON.stringify(filter)}`,
  );
}
