// Child of bench/dashboard.ts, run with DATABASE_URL set to the benchmark database: makes
// the organization and its admin through the app's own code, and a one-time sign-in link
// for the admin through `poolguard admin create-user` (the flow self-hosters use), so the
// benchmark signs in exactly as a person would, whatever the session format is.
//   tsx bench/dashboard-setup.ts BASE_URL  ->  prints { "organizationId", "link" } as JSON
import { runAdminCommand } from "../lib/cli/admin.ts";
import { createOrganization, createUser, disconnectDatabase } from "../lib/db/index.ts";

const baseUrl = process.argv[2];
if (!baseUrl) throw new Error("usage: tsx bench/dashboard-setup.ts BASE_URL");
const owner = await createUser({ email: "owner@bench.test", name: "Bench owner" });
const organization = await createOrganization({ slug: "bench", name: "Bench", ownerUserId: owner.id });
let out = "";
let err = "";
const code = await runAdminCommand(["create-user", "admin@bench.test", "--org", "bench", "--role", "admin", "--base-url", baseUrl], {
  stdout: (s) => {
    out += s;
  },
  stderr: (s) => {
    err += s;
  },
});
await disconnectDatabase();
if (code !== 0) throw new Error(`admin create-user failed (${code}): ${err}`);
process.stdout.write(`${JSON.stringify({ organizationId: organization.id, link: out.trim() })}\n`);
