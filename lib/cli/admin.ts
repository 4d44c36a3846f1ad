import { parseArgs } from "node:util";
import { generateToken, hashToken } from "../auth/tokens.ts";
import { type ApiTokenRole, apiTokenRoles, createApiToken, disconnectDatabase, findOrganizationBySlug, firstOrganization } from "../db/index.ts";
import { adminUserUsage, createOrgCommand, createUserCommand } from "./admin-users.ts";

// `poolguard admin create-token [--org SLUG] [--role ROLE] [--name NAME]`: a new API
// token for the server's REST API, printed once. Runs against DATABASE_URL (the same
// database the server uses); only the token's hash is stored.

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const adminUsage = ["poolguard admin create-token [--org SLUG] [--role admin|member|viewer] [--name NAME]", ...adminUserUsage].join("\n  ");

export const apiTokenPrefix = "pgt_";

/** Create a token; returns it in clear (the only time it exists outside the caller). */
export async function issueApiToken(input: { organizationId: string; role: ApiTokenRole; name: string }) {
  const token = `${apiTokenPrefix}${generateToken()}`;
  const stored = await createApiToken({ ...input, tokenHash: hashToken(token), prefix: token.slice(0, 12) });
  return { token, id: stored.id };
}

export async function runAdminCommand(args: string[], io: Io): Promise<0 | 2> {
  const [sub, ...rest] = args;
  if (sub === "create-org" || sub === "create-user") {
    try {
      return await (sub === "create-org" ? createOrgCommand(rest, io) : createUserCommand(rest, io));
    } finally {
      await disconnectDatabase();
    }
  }
  if (sub !== "create-token") {
    io.stderr(`poolguard: admin: unknown or missing command${sub ? ` "${sub}"` : ""}\n\nUsage:\n  ${adminUsage}\n`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { org: { type: "string" }, role: { type: "string", default: "admin" }, name: { type: "string" } } });
  const role = values.role as ApiTokenRole;
  if (!apiTokenRoles.includes(role)) {
    io.stderr(`poolguard: --role must be one of ${apiTokenRoles.join(", ")} (got "${values.role}")\n`);
    return 2;
  }
  try {
    const organization = values.org ? await findOrganizationBySlug(values.org) : await firstOrganization();
    if (!organization) {
      io.stderr(values.org ? `poolguard: no organization "${values.org}"\n` : "poolguard: there is no organization yet (start the server once to create one)\n");
      return 2;
    }
    const name = values.name?.trim() || `command line, ${new Date().toISOString().slice(0, 10)}`;
    const { token } = await issueApiToken({ organizationId: organization.id, role, name });
    io.stderr(`API token "${name}" for organization ${organization.slug}, role ${role}. It is shown once; store it now:\n`);
    io.stdout(`${token}\n`);
    return 0;
  } finally {
    await disconnectDatabase();
  }
}
