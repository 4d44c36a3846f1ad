import { db } from "./client.ts";
import type { Role } from "./types.ts";

// Organization membership for the Settings page: who is in, with which role. Invitations
// are users created without a password plus a membership; they join through a one-time
// sign-in link (the same flow as the first admin's).

export async function listMembers(organizationId: string) {
  const rows = await db().membership.findMany({
    where: { organizationId },
    include: { user: { select: { id: true, email: true, name: true, lastSignInAt: true } } },
    orderBy: { createdAt: "asc" },
  });
  return rows.map((m) => ({
    userId: m.user.id,
    email: m.user.email,
    name: m.user.name,
    role: m.role as Role,
    joined: m.user.lastSignInAt !== null,
    lastSignInAt: m.user.lastSignInAt,
  }));
}

export async function countOwners(organizationId: string): Promise<number> {
  return db().membership.count({ where: { organizationId, role: "owner" } });
}

export async function removeMember(organizationId: string, userId: string): Promise<boolean> {
  const removed = await db().membership.deleteMany({ where: { organizationId, userId } });
  return removed.count === 1;
}

export async function listInstallations(organizationId: string) {
  return db().installation.findMany({
    where: { organizationId },
    orderBy: { createdAt: "asc" },
    select: { id: true, githubId: true, accountLogin: true, accountType: true, suspendedAt: true, _count: { select: { repositories: true } } },
  });
}
