import { DEFAULT_MAX_TALLIED, DeliveryTally, type TallySnapshot } from './delivery-tally.js';
import type { SandboxProvider } from './providers.js';
import { isObject, type RecipientKind } from './validate-messages.js';

/** Mailjet gives each recipient a MessageUUID; SendGrid has one X-Message-Id per request. */
export type StoredRecipient = { Type: RecipientKind; Email: string; MessageID: string; MessageUUID?: string };

/**
 * A message as sent plus what the sandbox gave it, and `provider`: which endpoint took it.
 * Mailjet's: its field names (`Globals` merged in); `MessageID` and `MessageUUID` are those of its
 * first To recipient, strings because they exceed 2^53. SendGrid's: one per personalization, in
 * SendGrid's field names with the personalization's fields (`to`, `cc`, `bcc`, `subject`, merged
 * `custom_args`...) over the message's; `MessageID` is the request's X-Message-Id.
 * `Recipients` lists every recipient's ids.
 */
export type StoredMessage = Record<string, unknown> & {
  provider: SandboxProvider;
  MessageID: string;
  MessageUUID?: string;
  receivedAt: string;
  Recipients: StoredRecipient[];
  CustomID?: string;
};

/**
 * `trackingId` matches Mailjet's CustomID or SendGrid's `custom_args.trackingId` exactly (`customId`
 * is the same filter under Mailjet's name); `to` matches any recipient (To, Cc or Bcc), ignoring
 * case; `provider` the endpoint that took the message.
 */
export type MessageFilter = {
  trackingId?: string | undefined;
  customId?: string | undefined;
  to?: string | undefined;
  provider?: SandboxProvider | undefined;
};

/** The notification a stored message belongs to: Mailjet's CustomID, SendGrid's custom_args.trackingId. */
export function trackingIdOf(message: StoredMessage): string | undefined {
  if (message.provider === 'mailjet') return message.CustomID || undefined;
  const args = message.custom_args;
  const id = isObject(args) ? args.trackingId : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

export const DEFAULT_MAX_STORED = 10_000;
/** 256 MiB of messages, by their weight: a long run at full rate cannot grow the sandbox without end. */
export const DEFAULT_MAX_STORED_BYTES = 256 * 1024 * 1024;

type Waiter = { filter: MessageFilter; count: number; resolve: (messages: StoredMessage[]) => void };
type Entry = { message: StoredMessage; emails: string[]; trackingId: string | undefined; bytes: number };
type Index = Map<string, StoredMessage[]>;

/** Past this many evicted slots at the front, and over half the array, the array is compacted. */
const COMPACT_AFTER = 1_024;

/**
 * Keeps the newest accepted messages, in the order received, within two bounds: `maxStored`
 * messages and `maxStoredBytes` (each message counted by its `jsonWeight`). The oldest go
 * first; the newest message is always kept, even alone over the byte bound. Other suites poll it by
 * tracking id while thousands of messages are stored, so tracking id and recipient lookups use indexes.
 * Every message added is counted by its tracking id too (`tally`), evicted or not, up to `maxTallied` ids.
 */
export class MessageStore {
  /**
   * Oldest first from `head`: evicting moves `head` on, and the array drops its evicted front now
   * and then, because shifting an array or evicting from the front of a Map or Set on every message
   * costs a walk over what is left (or over tombstones).
   */
  private entries: (Entry | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private readonly byTrackingId: Index = new Map();
  private readonly byRecipient: Index = new Map();
  private waiters: Waiter[] = [];
  private readonly delivered: DeliveryTally;

  constructor(
    readonly maxStored = DEFAULT_MAX_STORED,
    readonly maxStoredBytes = DEFAULT_MAX_STORED_BYTES,
    maxTallied = DEFAULT_MAX_TALLIED,
  ) {
    for (const [name, value] of Object.entries({ maxStored, maxStoredBytes })) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
      }
    }
    this.delivered = new DeliveryTally(maxTallied);
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** What the stored messages weigh (`jsonWeight`). */
  get storedBytes(): number {
    return this.bytes;
  }

  add(message: StoredMessage): void {
    const bytes = jsonWeight(message);
    const entry = { message, emails: recipientKeys(message), trackingId: trackingIdOf(message), bytes };
    this.delivered.record(entry.trackingId);
    this.entries.push(entry);
    this.bytes += entry.bytes;
    if (entry.trackingId) addToIndex(this.byTrackingId, entry.trackingId, message);
    for (const email of entry.emails) addToIndex(this.byRecipient, email, message);
    while (this.size > this.maxStored || (this.bytes > this.maxStoredBytes && this.size > 1)) this.evictOldest();
    if (this.waiters.length > 0) this.wakeWaiters();
  }

  list(filter: MessageFilter = {}): StoredMessage[] {
    const to = filter.to?.toLowerCase();
    const trackingId = filter.trackingId ?? filter.customId;
    const { provider } = filter;
    const all = trackingId === undefined && to === undefined;
    const candidates = all ? this.inOrder() : this.candidates(trackingId, to);
    if (all && provider === undefined) return candidates;
    return candidates.filter(
      (message) =>
        (trackingId === undefined || trackingIdOf(message) === trackingId) &&
        (to === undefined || sentTo(message, to)) &&
        (provider === undefined || message.provider === provider),
    );
  }

  /** Every message added since the start or the last clear, counted by tracking id. */
  tally(): TallySnapshot {
    return this.delivered.snapshot();
  }

  /** Empties the store and its tally. */
  clear(): void {
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.byTrackingId.clear();
    this.byRecipient.clear();
    this.delivered.clear();
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

  /** Every stored message, oldest first. */
  private inOrder(): StoredMessage[] {
    return this.entries.slice(this.head).map((entry) => (entry as Entry).message);
  }

  private evictOldest(): void {
    const oldest = this.entries[this.head] as Entry;
    this.entries[this.head] = undefined;
    this.head += 1;
    this.bytes -= oldest.bytes;
    this.unindex(oldest);
    if (this.head > COMPACT_AFTER && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** The shorter index list that can hold the matches; at least one of the two filters is given. */
  private candidates(trackingId: string | undefined, to: string | undefined): StoredMessage[] {
    const byId = trackingId === undefined ? undefined : (this.byTrackingId.get(trackingId) ?? []);
    const byTo = to === undefined ? undefined : (this.byRecipient.get(to) ?? []);
    if (byId && byTo) return byId.length <= byTo.length ? byId : byTo;
    return byId ?? byTo ?? [];
  }

  private unindex({ message, emails, trackingId }: Entry): void {
    if (trackingId) removeFromIndex(this.byTrackingId, trackingId, message);
    for (const email of emails) removeFromIndex(this.byRecipient, email, message);
  }

  private wakeWaiters(): void {
    for (const waiter of this.waiters) {
      const found = this.list(waiter.filter);
      if (found.length >= waiter.count) waiter.resolve(found);
    }
  }
}

/** Lower-cased and without duplicates; a message has few recipients, so a list beats a Set here. */
function recipientKeys(message: StoredMessage): string[] {
  const keys: string[] = [];
  for (const { Email } of message.Recipients) {
    const key = Email.toLowerCase();
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

const sentTo = (message: StoredMessage, email: string) =>
  message.Recipients.some(({ Email }) => Email.toLowerCase() === email);

function addToIndex(index: Index, key: string, message: StoredMessage): void {
  const list = index.get(key);
  if (list) list.push(message);
  else index.set(key, [message]);
}

/** Eviction goes oldest first, so the message is at the front of its lists. */
function removeFromIndex(index: Index, key: string, message: StoredMessage): void {
  const list = index.get(key);
  if (list === undefined) return;
  const at = list[0] === message ? 0 : list.indexOf(message);
  if (at === 0) list.shift();
  else if (at > 0) list.splice(at, 1);
  if (list.length === 0) index.delete(key);
}

function timeoutError(filter: MessageFilter, count: number, timeoutMs: number): Error {
  return new Error(
    `timed out after ${timeoutMs} ms waiting for ${count} message(s) matching ${JSON.stringify(filter)}`,
  );
}

/**
 * About the length of a value's JSON, without writing it: each string counts its UTF-16 length
 * plus its quotes, each other scalar 8, each key its length plus 4. The store's byte bound is a
 * guard on the sandbox's memory, and writing every message out to measure it took a fifth of the
 * send endpoint's time in the bench's unpaced drain, on the cores it measures. For the ASCII emails the handler
 * writes, it comes within a few percent of the JSON's length in bytes. A walk of its own, not
 * recursion: a message is whatever JSON a caller sent, nested however deep.
 */
export function jsonWeight(value: unknown): number {
  let weight = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') weight += next.length + 2;
    else if (Array.isArray(next)) {
      weight += 2 + next.length;
      for (const item of next) pending.push(item);
    } else if (next !== null && typeof next === 'object') {
      weight += 2;
      for (const [key, field] of Object.entries(next)) {
        weight += key.length + 4;
        pending.push(field);
      }
    } else weight += 8;
  }
  return weight;
}
