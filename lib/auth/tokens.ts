import { createHash, randomBytes } from "node:crypto";

/** A bearer token for cookies and sign-in links; only its hash is stored. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export const sessionCookieName = "poolguard_session";
export const sessionLifetimeMs = 30 * 24 * 60 * 60 * 1000;
export const signInLinkLifetimeMs = 24 * 60 * 60 * 1000;

export function sessionCookieOptions(secure: boolean, expires: Date) {
  return { httpOnly: true, sameSite: "lax" as const, secure, path: "/", expires };
}
