import { db } from "./client.ts";
import { normalizeEmail, type UserRecord } from "./users.ts";

// Sign-in accounts of other providers (GitHub) linked to users.

/** The user an external account is linked to, or null. */
export async function findUserByAccount(provider: string, providerAccountId: string): Promise<UserRecord | null> {
  const account = await db().account.findUnique({ where: { provider_providerAccountId: { provider, providerAccountId } }, include: { user: true } });
  return account?.user ?? null;
}

/**
 * Link an external account to a user (idempotent). A user has at most one account per
 * provider: when another one is linked already, nothing changes and false is returned.
 */
export async function linkAccount(userId: string, provider: string, providerAccountId: string): Promise<boolean> {
  const existing = await db().account.findFirst({ where: { userId, provider } });
  if (existing) return existing.providerAccountId === providerAccountId;
  await db().account.upsert({
    where: { provider_providerAccountId: { provider, providerAccountId } },
    create: { userId, provider, providerAccountId },
    update: {},
  });
  return true;
}

/** The first existing user among these email addresses (in the order given). */
export async function findUserByAnyEmail(emails: readonly string[]): Promise<UserRecord | null> {
  for (const email of emails) {
    const user = await db().user.findUnique({ where: { email: normalizeEmail(email) } });
    if (user) return user;
  }
  return null;
}
