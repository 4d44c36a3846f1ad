import { createHash, randomBytes } from "node:crypto";

/** A bearer token for one-time sign-in links and API tokens; only its hash is stored. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Sessions last 30 days (better-auth renews them once a day while in use). */
export const sessionLifetimeSeconds = 30 * 24 * 60 * 60;
export const signInLinkLifetimeMs = 24 * 60 * 60 * 1000;
