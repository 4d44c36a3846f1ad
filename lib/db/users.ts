import { db } from "./client.ts";

export type UserRecord = { id: string; email: string; name: string; emailVerified: boolean; createdAt: Date; lastSignInAt: Date | null };

/** better-auth's provider id for email + password; the account holds the password hash. */
export const credentialProvider = "credential";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function countUsers(): Promise<number> {
  return db().user.count();
}

/**
 * Create a user. With a password hash (lib/auth/password.ts) the user also gets the
 * "credential" account better-auth signs in with; without one (invitations) they sign
 * in through a one-time link or GitHub.
 */
export async function createUser(input: { email: string; name: string; passwordHash?: string | null }): Promise<UserRecord> {
  const email = normalizeEmail(input.email);
  return db().$transaction(async (tx) => {
    const user = await tx.user.create({ data: { email, name: input.name } });
    if (input.passwordHash) {
      await tx.account.create({ data: { userId: user.id, provider: credentialProvider, providerAccountId: user.id, password: input.passwordHash } });
    }
    return user;
  });
}

/** Set (or replace) a user's password hash on their credential account. */
export async function setUserPassword(userId: string, passwordHash: string): Promise<void> {
  await db().account.upsert({
    where: { provider_providerAccountId: { provider: credentialProvider, providerAccountId: userId } },
    create: { userId, provider: credentialProvider, providerAccountId: userId, password: passwordHash },
    update: { password: passwordHash },
  });
}

/** The password hash better-auth checks for this user, or null (no password set). */
export async function findPasswordHash(userId: string): Promise<string | null> {
  const account = await db().account.findUnique({ where: { provider_providerAccountId: { provider: credentialProvider, providerAccountId: userId } } });
  return account?.password ?? null;
}

export async function findUserByEmail(email: string): Promise<UserRecord | null> {
  return db().user.findUnique({ where: { email: normalizeEmail(email) } });
}

export async function findUserById(id: string): Promise<UserRecord | null> {
  return db().user.findUnique({ where: { id } });
}

export async function touchUserSignIn(id: string): Promise<void> {
  await db().user.update({ where: { id }, data: { lastSignInAt: new Date() } });
}

/** Sessions of a user (better-auth writes them; Settings and tests read them). */
export async function countAuthSessions(userId: string): Promise<number> {
  return db().authSession.count({ where: { userId, expiresAt: { gt: new Date() } } });
}

export async function createSignInToken(input: { userId: string; tokenHash: string; expiresAt: Date }) {
  return db().signInToken.create({ data: input });
}

/**
 * Use a one-time sign-in token. Returns its user id, or null when unknown, expired or
 * already used. The conditional update makes two concurrent uses impossible: only one
 * of them changes a row.
 */
export async function consumeSignInToken(tokenHash: string): Promise<string | null> {
  const now = new Date();
  const token = await db().signInToken.findUnique({ where: { tokenHash } });
  if (!token) return null;
  const { count } = await db().signInToken.updateMany({
    where: { id: token.id, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return count === 1 ? token.userId : null;
}
