import { notFound } from "next/navigation";
import type { Role } from "../db/types.ts";
import { requireUser } from "./session.ts";

// The one place pages and server actions check membership and role. Viewers read,
// members triage, admins manage repositories, settings and tokens, owners everything.

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return rank[role] >= rank[minimum];
}

export class ForbiddenError extends Error {
  readonly status = 403;
  constructor(action: string, minimum: Role) {
    super(`${action} needs the ${minimum} role or higher`);
  }
}

/** The signed-in user in their current organization (redirects to sign-in; 404 when they belong to none). */
export async function requireMember() {
  const { user, organization, organizations } = await requireUser();
  if (!organization) notFound();
  return { user, organization, organizations, role: organization.role };
}

/** Like requireMember, and throws ForbiddenError below `minimum` (server actions turn it into a message). */
export async function requireRole(minimum: Role, action: string) {
  const member = await requireMember();
  if (!roleAtLeast(member.role, minimum)) throw new ForbiddenError(action, minimum);
  return member;
}
