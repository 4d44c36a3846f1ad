// Creates the first admin and the demo workspace, scans the demo repository once and
// prints how to sign in. Idempotent: later runs (every `npm start`) add no scan when the
// demo repository already has a successful one, and print a fresh one-time link.
// Run by `npm start`; `npx tsx scripts/seed-demo.ts --base-url http://127.0.0.1:3000`.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generatePassword, hashPassword } from "../lib/auth/password.ts";
import { createSignInLink } from "../lib/auth/sign-in-link.ts";
import { loadSecretKey } from "../lib/crypto/secrets.ts";
import {
  completeScan,
  countScans,
  countUsers,
  createOrganization,
  createRepository,
  createScan,
  createUser,
  disconnectDatabase,
  failScan,
  findOrganizationBySlug,
  findRepositoryByName,
  findUserByEmail,
  markScanRunning,
} from "../lib/db/index.ts";

const { values } = parseArgs({ options: { "base-url": { type: "string", default: "http://127.0.0.1:3000" } } });
const baseUrl = values["base-url"] ?? "http://127.0.0.1:3000";
const root = join(import.meta.dirname, "..");
const demoPath = join(root, "scripts", "demo-repository");
const adminEmail = process.env.POOLGUARD_ADMIN_EMAIL?.trim() || "admin@poolguard.local";

async function ensureAdmin() {
  if ((await countUsers()) > 0) {
    const admin = await findUserByEmail(adminEmail);
    return { admin, password: null as string | null };
  }
  const password = process.env.POOLGUARD_ADMIN_PASSWORD || generatePassword();
  const admin = await createUser({ email: adminEmail, name: "Admin", passwordHash: await hashPassword(password) });
  return { admin, password: process.env.POOLGUARD_ADMIN_PASSWORD ? null : password };
}

async function ensureDemoRepository(ownerUserId: string) {
  const organization = (await findOrganizationBySlug("demo")) ?? (await createOrganization({ slug: "demo", name: "Demo", ownerUserId }));
  const name = "demo/sample-app";
  const repository =
    (await findRepositoryByName(organization.id, name)) ??
    (await createRepository({ organizationId: organization.id, provider: "local", name, localPath: demoPath }));
  return { organization, repository };
}

async function scanDemo(repositoryId: string) {
  if (!existsSync(join(root, "lib", "analyzer", "index.ts"))) {
    console.log("[seed] the analyzer is not built into this checkout: demo scan skipped");
    return;
  }
  if ((await countScans({ repositoryId, status: "succeeded" })) > 0) {
    console.log("[seed] the demo repository is already scanned");
    return;
  }
  const analyzer = await import("../lib/analyzer/index.ts");
  const scan = await createScan({ repositoryId, trigger: "demo", branch: "main" });
  await markScanRunning(scan.id);
  try {
    const result = await analyzer.scan({ root: demoPath });
    await completeScan(scan.id, result);
    const open = result.findings.filter((f: { suppressed: boolean }) => !f.suppressed).length;
    console.log(`[seed] scanned the demo repository: ${result.files_scanned} files, ${open} findings`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await failScan(scan.id, message);
    throw error;
  }
}

// The key that encrypts GitHub tokens at rest: generated into data/ on first start when
// POOLGUARD_SECRET_KEY is unset (with a warning to back it up), so it exists before any
// token is stored.
loadSecretKey({ keyFile: join(root, "data", "secret-key"), warn: (message) => console.warn(`[start] ${message}`) });

const { admin, password } = await ensureAdmin();
if (!admin) {
  console.log(`[seed] no user ${adminEmail}; sign in with an existing account`);
} else {
  const { repository } = await ensureDemoRepository(admin.id);
  await scanDemo(repository.id);
  const link = await createSignInLink(admin.id, baseUrl);
  console.log("");
  console.log("  Sign in to Poolguard");
  console.log(`    email:    ${admin.email}`);
  if (password) console.log(`    password: ${password}   (shown once; it is not stored in clear)`);
  console.log(`    one-time link (valid 24 h): ${link}`);
  console.log("");
}
await disconnectDatabase();
