import type { ServerResponse } from 'node:http';
import type { FieldProblem } from './fault-settings.js';

/** Mailjet's own content type; node-mailjet parses every body as JSON whatever it says. */
const JSON_TYPE = 'application/json; charset=UTF-8';

export function answerText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** For bodies already written as JSON text (a send answer carries integers above 2^53). */
export function answerJsonText(res: ServerResponse, status: number, json: string): void {
  answerText(res, status, json, JSON_TYPE);
}

export function answerJson(res: ServerResponse, status: number, body: unknown): void {
  answerText(res, status, JSON.stringify(body), JSON_TYPE);
}

/** The error shape of the sandbox's own endpoints (not Mailjet's): the one the services use. */
export function answerError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details?: FieldProblem[],
): void {
  answerJson(res, status, { error: { code, message, details } });
}

/** The HTML pages a proxy in front of an API writes (nginx's wording): not JSON, on purpose. */
export function proxyPage(status: number, reason: string): string {
  const title = `${status} ${reason}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

export function answerProxyPage(res: ServerResponse, status: number, reason: string): void {
  answerText(res, status, proxyPage(status, reason), 'text/html');
}
