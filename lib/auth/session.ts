import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { createAuthSession, deleteAuthSession, findAuthSession, listOrganizationsForUser, touchUserSignIn } from "../db/index.ts";
import { generateToken, hashToken, sessionCookieName, sessionCookieOptions, sessionLifetimeMs } from "./tokens.ts";

async function isHttps(): Promise<boolean> {
  const h = await headers();
  return h.get("x-forwarded-proto") === "https";
}

export async function startSession(userId: string): Promise<void> {
  const token = generateToken();
  const expiresAt = new Date(Date.now() + sessionLifetimeMs);
  const userAgent = (await headers()).get("user-agent");
  await createAuthSession({ userId, tokenHash: hashToken(token), expiresAt, userAgent });
  await touchUserSignIn(userId);
  (await cookies()).set(sessionCookieName, token, sessionCookieOptions(await isHttps(), expiresAt));
}

export async function endSession(): Promise<void> {
  const jar = await cookies();
  const token = jar.get(sessionCookieName)?.value;
  if (token) await deleteAuthSession(hashToken(token));
  jar.delete(sessionCookieName);
}

export async function currentUser() {
  const token = (await cookies()).get(sessionCookieName)?.value;
  if (!token) return null;
  const found = await findAuthSession(hashToken(token));
  return found?.user ?? null;
}

/** Cookie holding the slug of the organization the user is working in (several per user). */
export const organizationCookieName = "poolguard_org";

/** The signed-in user and their current organization (chosen in Settings, else the first); redirects to /sign-in otherwise. */
export async function requireUser() {
  const user = await currentUser();
  if (!user) redirect("/sign-in");
  const organizations = await listOrganizationsForUser(user.id);
  const chosen = (await cookies()).get(organizationCookieName)?.value;
  const organization = organizations.find((o) => o.slug === chosen) ?? organizations[0] ?? null;
  return { user, organization, organizations };
}

/** For route handlers: the signed-in user and current organization, or null (no redirect). */
export async function currentMember() {
  const user = await currentUser();
  if (!user) return null;
  const organizations = await listOrganizationsForUser(user.id);
  const chosen = (await cookies()).get(organizationCookieName)?.value;
  const organization = organizations.find((o) => o.slug === chosen) ?? organizations[0] ?? null;
  return { user, organization };
}
