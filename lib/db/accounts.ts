import { db } from "./client.ts";
import { normalizeEmail, type UserRecord } from "./users.ts";

// Sign-in accounts of other providers (GitHub) linked to users. better-auth creates and
// updates these rows; these reads decide who "Sign in with GitHub" may let in.

/** The user an external account is linked to, or null. */
export async function findUserByAccount(provider: string, providerAccountId: string): Promise<UserRecord | null> {
  const account = await db().account.findUnique({ where: { provider_providerAccountId: { provider, providerAccountId } }, include: { user: true } });
  return account?.user ?? null;
}

/** Whether the user has an account of this provider linked already. */
export async function hasAccount(userId: string, provider: string): Promise<boolean> {
  return (await db().account.count({ where: { userId, provider } })) > 0;
}

/** The first existing user among these email addresses (in the order given). */
export async function findUserByAnyEmail(emails: readonly string[]): Promise<UserRecord | null> {
  for (const email of emails) {
    const user = await db().user.findUnique({ where: { email: normalizeEmail(email) } });
    if (user) return user;
  }
  return null;
}
