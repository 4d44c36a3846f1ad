import { db } from "./client.ts";
import type { Role } from "./types.ts";

export type ApiTokenRole = Exclude<Role, "owner">;
export const apiTokenRoles: readonly ApiTokenRole[] = ["admin", "member", "viewer"];

/** Store a new API token. The caller keeps the token itself; only its hash is stored. */
export async function createApiToken(input: { organizationId: string; name: string; role: ApiTokenRole; tokenHash: string; prefix: string }) {
  return db().apiToken.create({ data: input });
}

/** The live token with this hash and its organization, or null (unknown or revoked). */
export async function findApiTokenByHash(tokenHash: string) {
  const token = await db().apiToken.findUnique({ where: { tokenHash }, include: { organization: true } });
  if (!token || token.revokedAt) return null;
  return { ...token, role: token.role as ApiTokenRole };
}

/**
 * Record use at most once a minute per token (a write per request would be wasteful).
 * Best effort: on SQLite a long scan commit holds the write lock, and a read request
 * must not fail because its "last used" stamp could not be written.
 */
export async function touchApiToken(id: string, now = new Date()) {
  try {
    await db().apiToken.updateMany({
      where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - 60_000) } }] },
      data: { lastUsedAt: now },
    });
  } catch {
    // the next request records it
  }
}

export async function listApiTokens(organizationId: string) {
  const tokens = await db().apiToken.findMany({
    where: { organizationId },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, role: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
  return tokens.map((t) => ({ ...t, role: t.role as ApiTokenRole }));
}

export async function revokeApiToken(organizationId: string, id: string) {
  const revoked = await db().apiToken.updateMany({ where: { id, organizationId, revokedAt: null }, data: { revokedAt: new Date() } });
  return revoked.count === 1;
}

/** The oldest organization (the default for tokens made from the command line). */
export async function firstOrganization() {
  return db().organization.findFirst({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}
