import { parseArgs } from "node:util";
import { createSignInLink } from "../auth/sign-in-link.ts";
import { addMember, createOrganization, createUser, findOrganizationBySlug, findUserByEmail, firstOrganization, listMembers, normalizeEmail, type Role, roles } from "../db/index.ts";

// Self-hosters' admin commands for people and organizations:
//   poolguard admin create-org NAME [--slug SLUG] [--owner EMAIL]
//   poolguard admin create-user EMAIL [--org SLUG] [--role ROLE] [--base-url URL]
// create-user prints a one-time sign-in link (24 hours), the same flow as the first admin's.

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const adminUserUsage = [
  "poolguard admin create-org NAME [--slug SLUG] [--owner EMAIL]",
  "poolguard admin create-user EMAIL [--org SLUG] [--role owner|admin|member|viewer] [--base-url URL]",
];

function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

export async function createOrgCommand(args: string[], io: Io): Promise<0 | 2> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { slug: { type: "string" }, owner: { type: "string" } } });
  const name = positionals.join(" ").trim();
  if (!name) {
    io.stderr(`poolguard: admin create-org needs a NAME\n\nUsage:\n  ${adminUserUsage[0]}\n`);
    return 2;
  }
  const slug = values.slug ?? slugify(name);
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(slug)) {
    io.stderr(`poolguard: --slug must be lowercase letters, digits and dashes (got "${slug}")\n`);
    return 2;
  }
  if (await findOrganizationBySlug(slug)) {
    io.stderr(`poolguard: an organization "${slug}" already exists\n`);
    return 2;
  }
  const ownerEmail = values.owner ? normalizeEmail(values.owner) : null;
  const owner = ownerEmail ? await findUserByEmail(ownerEmail) : null;
  if (ownerEmail && !owner) {
    io.stderr(`poolguard: no user ${ownerEmail} (create it first with admin create-user)\n`);
    return 2;
  }
  const fallbackOwner = owner?.id ?? (await firstOrganizationOwner());
  if (!fallbackOwner) {
    io.stderr("poolguard: there is no user to own the organization yet: pass --owner EMAIL\n");
    return 2;
  }
  const organization = await createOrganization({ slug, name, ownerUserId: fallbackOwner });
  io.stderr(`organization "${organization.name}" created; owner ${ownerEmail ?? "the first admin"}\n`);
  io.stdout(`${organization.slug}\n`);
  return 0;
}

async function firstOrganizationOwner(): Promise<string | null> {
  const first = await firstOrganization();
  if (!first) return null;
  return (await listMembers(first.id)).find((m) => m.role === "owner")?.userId ?? null;
}

export async function createUserCommand(args: string[], io: Io): Promise<0 | 2> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { org: { type: "string" }, role: { type: "string", default: "member" }, "base-url": { type: "string" } },
  });
  const email = normalizeEmail(positionals[0] ?? "");
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    io.stderr(`poolguard: admin create-user needs an EMAIL\n\nUsage:\n  ${adminUserUsage[1]}\n`);
    return 2;
  }
  const role = values.role as Role;
  if (!roles.includes(role)) {
    io.stderr(`poolguard: --role must be one of ${roles.join(", ")} (got "${values.role}")\n`);
    return 2;
  }
  const organization = values.org ? await findOrganizationBySlug(values.org) : await firstOrganization();
  if (!organization) {
    io.stderr(values.org ? `poolguard: no organization "${values.org}"\n` : "poolguard: there is no organization yet (start the server once)\n");
    return 2;
  }
  const user = (await findUserByEmail(email)) ?? (await createUser({ email, name: email.split("@")[0] }));
  await addMember({ organizationId: organization.id, userId: user.id, role });
  const baseUrl = values["base-url"] ?? process.env.POOLGUARD_BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const link = await createSignInLink(user.id, baseUrl);
  io.stderr(`${email} is ${role} of ${organization.slug}. One-time sign-in link (valid 24 hours):\n`);
  io.stdout(`${link}\n`);
  return 0;
}
