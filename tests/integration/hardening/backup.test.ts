import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, parseSecretKey } from "../../../lib/crypto/secrets.ts";
import { pgConfig } from "../../../scripts/lib/migrations.mjs";
import { useFreshDatabase } from "../db/fresh-database.ts";
import { tempDir } from "../pipeline/helpers.ts";
import { root } from "./app.ts";

// `npm run backup` / `npm run restore` on the provider under test: data written through
// lib/db and a secret encrypted with data/secret-key are backed up while a connection
// keeps writing, the database and the key file are wiped (SQLite: files deleted;
// PostgreSQL: the database dropped and created empty), restored, and found again.

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
const install = tempDir("backup-install");

function script(args: string[]) {
  const result = spawnSync(process.execPath, [join(root, "scripts", "backup.mjs"), ...args], {
    cwd: install.dir,
    env: { ...process.env, DATABASE_URL: database.url, POOLGUARD_SECRET_KEY: "" },
    encoding: "utf8",
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

async function pgAdmin(sql: string) {
  const base = new URL(database.url);
  base.pathname = "/postgres";
  const client = new pg.Client(pgConfig(base.toString()));
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
});

afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
  install.remove();
});

describe(`backup and restore (${process.env.POOLGUARD_TEST_PROVIDER ?? "sqlite"})`, () => {
  it("backs up while the database is in use, and a wiped installation gets everything back", async () => {
    // The installation's secret key, as npm start generates it into data/.
    const key = randomBytes(32);
    mkdirSync(join(install.dir, "data"), { recursive: true });
    writeFileSync(join(install.dir, "data", "secret-key"), `${key.toString("hex")}\n`, { mode: 0o600 });
    const sealed = encryptSecret("ghs_installation-token-kept-encrypted", key, "backup-test");

    const user = await db.createUser({ email: "backup@example.test", name: "Backup" });
    const organization = await db.createOrganization({ slug: "backup", name: "Backup Org", ownerUserId: user.id });
    const repositories = [];
    for (let i = 0; i < 20; i++) repositories.push(await db.createRepository({ organizationId: organization.id, provider: "local", name: `service-${i}`, localPath: `/srv/service-${i}` }));
    const { issueApiToken } = await import("../../../lib/cli/admin.ts");
    const { token } = await issueApiToken({ organizationId: organization.id, role: "viewer", name: "backup" });
    const { hashToken } = await import("../../../lib/auth/tokens.ts");

    // Writes keep going while the backup runs (the online backup must still be consistent).
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await db.createRepository({ organizationId: organization.id, provider: "local", name: `during-${written}`, localPath: `/srv/during-${written}` });
        written++;
      }
    })();
    const backupDir = join(install.dir, "backups", "nightly");
    const made = script(["backup", backupDir]);
    writing = false;
    await writer;
    expect(made.out).toMatch(/backed up the (sqlite|postgresql) database and data\/secret-key/);
    expect(made.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(backupDir, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ provider: database.provider, secretKey: "file" });
    expect(statSync(join(backupDir, "secret-key")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(backupDir, database.provider === "sqlite" ? "poolguard.db" : "poolguard.dump"))).toBe(true);
    // A second backup into the same folder is refused rather than mixed.
    expect(script(["backup", backupDir]).code).toBe(2);

    // Wipe: the database and the key are gone.
    await db.disconnectDatabase();
    if (database.provider === "sqlite") {
      const file = database.url.slice("file:".length);
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
    } else {
      const name = new URL(database.url).pathname.slice(1);
      await pgAdmin(`DROP DATABASE "${name}" WITH (FORCE)`);
      await pgAdmin(`CREATE DATABASE "${name}"`);
    }
    rmSync(join(install.dir, "data", "secret-key"));
    await expect(db.findOrganizationBySlug("backup")).rejects.toThrow();
    await db.disconnectDatabase();

    const restored = script(["restore", backupDir]);
    expect(restored.out).toMatch(/restored the (sqlite|postgresql) database and data\/secret-key/);
    expect(restored.code).toBe(0);

    const org = await db.findOrganizationBySlug("backup");
    expect(org).toMatchObject({ id: organization.id, name: "Backup Org" });
    const names = (await db.listRepositories(organization.id)).map((r) => r.name);
    for (const r of repositories) expect(names).toContain(r.name);
    // One point in time of the concurrent writer's rows: a prefix of them, without holes.
    const during = names
      .filter((n) => n.startsWith("during-"))
      .map((n) => Number(n.slice("during-".length)))
      .sort((a, b) => a - b);
    expect(during.length).toBeLessThanOrEqual(written);
    expect(during).toEqual(during.map((_, i) => i));
    expect(await db.findApiTokenByHash(hashToken(token))).toMatchObject({ organizationId: organization.id, role: "viewer" });
    const restoredKey = parseSecretKey(readFileSync(join(install.dir, "data", "secret-key"), "utf8"));
    expect(decryptSecret(sealed, restoredKey, "backup-test")).toBe("ghs_installation-token-kept-encrypted");

    // The restored database is fully migrated: nothing left to apply.
    const { applyMigrations } = await import("../../../scripts/lib/migrations.mjs");
    expect(await applyMigrations(database.url)).toEqual([]);
  });

  it("refuses a folder that is not a backup, and a backup of the other provider", () => {
    const other = join(install.dir, "not-a-backup");
    mkdirSync(other, { recursive: true });
    expect(script(["restore", other])).toMatchObject({ code: 2 });
    const mismatched = join(install.dir, "other-provider");
    mkdirSync(mismatched, { recursive: true });
    writeFileSync(join(mismatched, "manifest.json"), JSON.stringify({ provider: database.provider === "sqlite" ? "postgresql" : "sqlite", secretKey: "none" }));
    const refused = script(["restore", mismatched]);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/the backup is of a (sqlite|postgresql) database but DATABASE_URL is/);
  });
});
