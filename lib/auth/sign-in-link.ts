import { createSignInToken } from "../db/index.ts";
import { generateToken, hashToken, signInLinkLifetimeMs } from "./tokens.ts";

/** Create a one-time sign-in link for a user (printed on the server console only). */
export async function createSignInLink(userId: string, baseUrl: string): Promise<string> {
  const token = generateToken();
  await createSignInToken({ userId, tokenHash: hashToken(token), expiresAt: new Date(Date.now() + signInLinkLifetimeMs) });
  return `${baseUrl.replace(/\/$/, "")}/sign-in/link?token=${token}`;
}
