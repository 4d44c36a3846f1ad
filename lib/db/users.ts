import { db } from "./client.ts";

export type UserRecord = { id: string; email: string; name: string; passwordHash: string | null; createdAt: Date; lastSignInAt: Date | null };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function countUsers(): Promise<number> {
  return db().user.count();
}

export async function createUser(input: { email: string; name: string; passwordHash?: string | null }): Promise<UserRecord> {
  const email = normalizeEmail(input.email);
  return db().user.create({
    data: {
      email,
      name: input.name,
      passwordHash: input.passwordHash ?? null,
      accounts: input.passwordHash ? { create: { provider: "password", providerAccountId: email } } : undefined,
    },
  });
}

export async function setUserPassword(userId: string, passwordHash: string): Promise<void> {
  await db().user.update({ where: { id: userId }, data: { passwordHash } });
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

export async function createAuthSession(input: { userId: string; tokenHash: string; expiresAt: Date; userAgent?: string | null }) {
  return db().authSession.create({ data: { ...input, userAgent: input.userAgent ?? null } });
}

/** The session and its user, or null when unknown or expired. */
export async function findAuthSession(tokenHash: string) {
  const session = await db().authSession.findUnique({ where: { tokenHash }, include: { user: true } });
  if (!session || session.expiresAt.getTime() <= Date.now()) return null;
  const { user, ...rest } = session;
  return { session: rest, user };
}

export async function deleteAuthSession(tokenHash: string): Promise<void> {
  await db().authSession.deleteMany({ where: { tokenHash } });
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
