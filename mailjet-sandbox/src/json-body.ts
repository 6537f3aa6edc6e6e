import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';

/** Mailjet allows 15 MB of attachments in all; the sandbox refuses bodies above this by default. */
export const DEFAULT_MAX_BODY_BYTES = 15 * 1024 * 1024;

/** `utf8`: the bytes were valid UTF-8 (otherwise `text` holds U+FFFD where they were not). */
export type BodyResult = { ok: true; text: string; utf8: boolean } | { ok: false; reason: 'too_large' | 'aborted' };

/**
 * Reads the whole body as UTF-8, up to `limitBytes`. A declared Content-Length over the limit is
 * refused before a byte is read; a body that grows past it stops being buffered.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  if (Number(req.headers['content-length']) > limitBytes) return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limitBytes) return; // past the limit: the rest is read and dropped
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
      else resolve({ ok: false, reason: 'too_large' });
    });
    req.on('end', () => resolve(decode(chunks, size)));
    // 'close' before 'end': the client went away mid-body. A settled promise ignores it otherwise.
    req.on('close', () => resolve({ ok: false, reason: 'aborted' }));
  });
}

function decode(chunks: Buffer[], size: number): { ok: true; text: string; utf8: boolean } {
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  const text = bytes.toString('utf8');
  // Invalid bytes decode to U+FFFD: only a body holding one needs the full check (hot path).
  return { ok: true, text, utf8: !text.includes('\uFFFD') || isUtf8(bytes) };
}

export type JsonResult = { ok: true; value: unknown } | { ok: false; reason: 'too_large' | 'aborted' | 'malformed' };

/** For the sandbox's own endpoints: an empty body counts as `{}`. */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<JsonResult> {
  const body = await readBody(req, limitBytes);
  if (!body.ok) return body;
  if (body.text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(body.text) };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}
