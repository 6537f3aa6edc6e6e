import type { z } from 'zod';
import {
  type NotificationMessage,
  type NotificationMessageInput,
  NotificationMessageSchema,
  type Operation,
  SCHEMA_VERSION,
} from './notification-message.js';

export const CONTENT_TYPE = 'application/json';
/** Real messages are a few KiB; anything far larger is abuse or a bug, and JSON.parse on it is costly. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

export type PublishProperties = {
  messageId: string;
  type: Operation;
  contentType: typeof CONTENT_TYPE;
  contentEncoding: 'utf-8';
  persistent: true;
  // An unroutable message must come back as a 'return', not vanish.
  mandatory: true;
  timestamp: number;
  appId: string;
  headers: {
    'x-schema-version': number;
    /** W3C trace context of the request that caused the notification, for the consumer to continue. */
    traceparent?: string;
  };
};

export type EncodeOptions = {
  /** A W3C `traceparent` value, sent as the AMQP header of the same name. */
  traceparent?: string;
};

export type EncodedNotification = {
  routingKey: Operation;
  content: Buffer;
  properties: PublishProperties;
};

/** Validates, then gives what to hand to `channel.publish(exchange, routingKey, content, properties)`. */
export function encodeNotification(
  input: NotificationMessageInput,
  appId: string,
  { traceparent }: EncodeOptions = {},
): EncodedNotification {
  const message = NotificationMessageSchema.parse(input);
  return {
    routingKey: message.operation,
    content: Buffer.from(JSON.stringify(message)),
    properties: {
      messageId: message.trackingId,
      type: message.operation,
      contentType: CONTENT_TYPE,
      contentEncoding: 'utf-8',
      persistent: true,
      mandatory: true,
      timestamp: Math.floor(Date.parse(message.occurredAt) / 1000),
      appId,
      headers: { 'x-schema-version': message.schemaVersion, ...(traceparent ? { traceparent } : {}) },
    },
  };
}

export type DecodeProblemCode =
  | 'content_type'
  | 'too_large'
  | 'bad_json'
  | 'unknown_schema_version'
  | 'schema'
  | 'property_mismatch'
  /** Not found by decodeNotification: a consumer's check of occurredAt against its own clock. */
  | 'ahead_of_clock';

export type DecodeProblem = { code: DecodeProblemCode; path?: string; message: string };

export class MessageDecodeError extends Error {
  override readonly name = 'MessageDecodeError';
  constructor(
    readonly problems: DecodeProblem[],
    /** Best effort, for logs: only ever a well-formed UUID taken from the message. */
    readonly trackingId: string | undefined,
  ) {
    super(problems.map(describeProblem).join('; '));
  }
}

export type DeliveredMessage = {
  content: Buffer;
  properties: { contentType?: unknown; messageId?: unknown; type?: unknown; headers?: unknown };
};

export type DecodeResult = { ok: true; message: NotificationMessage } | { ok: false; error: MessageDecodeError };

export function decodeNotification(
  delivery: DeliveredMessage,
  { maxBytes = DEFAULT_MAX_MESSAGE_BYTES }: { maxBytes?: number } = {},
): DecodeResult {
  const problems: DecodeProblem[] = [];
  const { properties } = delivery;
  if (!isJsonContentType(properties.contentType)) {
    problems.push({
      code: 'content_type',
      message: `content type must be ${CONTENT_TYPE}, got ${describeValue(properties.contentType)}`,
    });
  }
  if (delivery.content.length > maxBytes) {
    problems.push({ code: 'too_large', message: `body is ${delivery.content.length} bytes, over ${maxBytes}` });
    return failure(problems, undefined, properties.messageId);
  }

  let body: unknown;
  try {
    body = JSON.parse(delivery.content.toString('utf8'));
  } catch (error) {
    problems.push({ code: 'bad_json', message: `body is not JSON: ${(error as Error).message}` });
    return failure(problems, undefined, properties.messageId);
  }

  const version = (body as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== SCHEMA_VERSION) {
    problems.push({
      code: 'unknown_schema_version',
      path: 'schemaVersion',
      message: `schemaVersion ${describeValue(version)} is not understood (expected ${SCHEMA_VERSION})`,
    });
    return failure(problems, body, properties.messageId);
  }

  const parsed = NotificationMessageSchema.safeParse(body);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map(toSchemaProblem));
    return failure(problems, body, properties.messageId);
  }
  const message = parsed.data;
  if (properties.messageId !== undefined && String(properties.messageId).toLowerCase() !== message.trackingId) {
    problems.push({ code: 'property_mismatch', path: 'messageId', message: 'AMQP messageId differs from trackingId' });
  }
  if (properties.type !== undefined && properties.type !== message.operation) {
    problems.push({ code: 'property_mismatch', path: 'type', message: 'AMQP type differs from operation' });
  }
  // What the encoder writes beside the body: a producer whose header says another version than its
  // body is confused about which contract it speaks.
  const headerVersion = (properties.headers as Record<string, unknown> | undefined)?.['x-schema-version'];
  // A number as the encoder writes it, or its text, as some clients write header values.
  if (headerVersion !== undefined && String(headerVersion) !== String(message.schemaVersion)) {
    problems.push({
      code: 'property_mismatch',
      path: 'x-schema-version',
      message: `AMQP header x-schema-version ${describeValue(headerVersion)} differs from schemaVersion`,
    });
  }
  return problems.length === 0 ? { ok: true, message } : failure(problems, body, properties.messageId);
}

export function describeProblem(problem: DecodeProblem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

function failure(problems: DecodeProblem[], body: unknown, messageId: unknown): DecodeResult {
  const fromBody = (body as { trackingId?: unknown } | null | undefined)?.trackingId;
  const trackingId = [fromBody, messageId].find(isUuid);
  return { ok: false, error: new MessageDecodeError(problems, trackingId) };
}

function toSchemaProblem(issue: z.core.$ZodIssue): DecodeProblem {
  return { code: 'schema', path: issue.path.map(String).join('.'), message: issue.message };
}

/** application/json, with no charset or UTF-8's: the body is read as UTF-8, JSON's own encoding. */
function isJsonContentType(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const [type, ...parameters] = value.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length);
  return type === CONTENT_TYPE && (charset === undefined || /^"?utf-?8"?$/.test(charset));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'none';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
