/** Checks HTTP Basic credentials (username = API key, password = secret), as Mailjet does. */
export function basicAuthChecker(apiKey: string, apiSecret: string): (header: string | undefined) => boolean {
  // Most calls send exactly this header; comparing strings first keeps the hot path cheap.
  const expected = `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;
  return (header) => {
    if (header === expected) return true;
    const credentials = decodeBasic(header);
    return credentials !== undefined && credentials.key === apiKey && credentials.secret === apiSecret;
  };
}

function decodeBasic(header: string | undefined): { key: string; secret: string } | undefined {
  const match = header?.match(/^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { key: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Checks SendGrid's `Authorization: Bearer <key>`; the scheme's case does not matter (RFC 9110). */
export function bearerAuthChecker(apiKey: string): (header: string | undefined) => boolean {
  const expected = `Bearer ${apiKey}`;
  return (header) => {
    if (header === expected) return true;
    const match = header?.match(/^\s*bearer\s+(\S+)\s*$/i);
    return match?.[1] === apiKey;
  };
}
