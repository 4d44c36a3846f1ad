import { db } from "./client.ts";
import type { Role } from "./types.ts";

export async function createOrganization(input: { slug: string; name: string; ownerUserId: string }) {
  return db().organization.create({
    data: { slug: input.slug, name: input.name, memberships: { create: { userId: input.ownerUserId, role: "owner" } } },
  });
}

export async function findOrganizationBySlug(slug: string) {
  return db().organization.findUnique({ where: { slug } });
}

export async function listOrganizationsForUser(userId: string): Promise<{ id: string; slug: string; name: string; role: Role }[]> {
  const memberships = await db().membership.findMany({
    where: { userId },
    include: { organization: true },
    orderBy: { createdAt: "asc" },
  });
  return memberships.map((m) => ({ id: m.organization.id, slug: m.organization.slug, name: m.organization.name, role: m.role as Role }));
}

export async function getMembership(userId: string, organizationId: string): Promise<{ role: Role } | null> {
  const membership = await db().membership.findUnique({ where: { organizationId_userId: { organizationId, userId } } });
  return membership ? { role: membership.role as Role } : null;
}

export async function addMember(input: { organizationId: string; userId: string; role: Role }) {
  return db().membership.upsert({
    where: { organizationId_userId: { organizationId: input.organizationId, userId: input.userId } },
    create: input,
    update: { role: input.role },
  });
}
