// Keep GitHub credentials out of logs and error messages. Tokens are not always
// 40 characters (GitHub says their format and length may change), so patterns match
// the known prefixes with any length, and every secret the client holds is also
// replaced by value.

const patterns: RegExp[] = [
  // ghp_ (classic PAT), gho_ (OAuth), ghu_ (user-to-server), ghs_ (installation), ghr_ (refresh)
  /\bgh[pousr]_[A-Za-z0-9_-]{8,}/g,
  /\bgithub_pat_[A-Za-z0-9_-]{8,}/g,
  // JSON web tokens (the App's JWT)
  /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(authorization["']?\s*[:=]\s*["']?(?:token|bearer|basic)\s+)[^\s"',}]+/gi,
  /([?&](?:access_token|token|client_secret)=)[^&\s"']+/gi,
];

const known = new Set<string>();

/** Remember a secret so `redact` hides it wherever it appears. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 6) known.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of known) out = out.split(secret).join("[redacted]");
  for (const pattern of patterns) {
    out = out.replace(pattern, (match, keep?: string) => (typeof keep === "string" && match.startsWith(keep) ? `${keep}[redacted]` : "[redacted]"));
  }
  return out;
}

/** An Error whose message, stack and cause chain carry no credentials. */
export function redactError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(redact(String(error)));
  const copy = new Error(redact(error.message));
  copy.name = error.name;
  copy.stack = error.stack ? redact(error.stack) : undefined;
  for (const key of ["status", "code"] as const) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) (copy as unknown as Record<string, unknown>)[key] = value;
  }
  return copy;
}
