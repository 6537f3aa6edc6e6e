import { randomUUID } from 'node:crypto';

/** Unique per call, so that tests never see each other's messages in the shared store. */
export const uniqueId = (prefix: string) => `${prefix}-${randomUUID()}`;

export const uniqueEmail = (domain = 'example.com') => `user-${randomUUID().slice(0, 13)}@${domain}`;

/** A valid v3.1 message with a unique CustomID and recipient; override any field. */
export function buildMessage(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    From: { Email: 'tickets@notify.example', Name: 'Notify' },
    To: [{ Email: uniqueEmail(), Name: 'Ada Lovelace' }],
    Subject: 'Your ticket is in your checkout',
    TextPart: 'Hello Ada, your ticket is waiting.',
    HTMLPart: '<p>Hello Ada, your ticket is waiting.</p>',
    CustomID: uniqueId('msg'),
    ...overrides,
  };
}
