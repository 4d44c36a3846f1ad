// A database from before sign-in moved to better-auth, upgraded by the migrations: the
// password hashes move to credential accounts and keep signing people in, GitHub links
// stay, old sessions end, invited users stay invited.
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, schemaPaths } from "../../../scripts/lib/migrations.mjs";
import { rawSql } from "../../support/raw-sql.ts";
import { createEmptyDatabase, testProvider } from "../db/fresh-database.ts";

const provider = testProvider();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const legacy = {
  password: "a password from before the upgrade",
  hash: "scrypt$16384$8$1$03av7_yg2yzMuN2aTWi25w$g9CUAhQhKVTQXH4foYI_BpCIGTZten5aka1cBC0Tmq6UJ3JEdS1EztugmP7lfePqClVcTZt_1fvH1Q0n_qCgxw",
};

const sql = rawSql;

describe(`upgrading sign-in data on ${provider}`, () => {
  it("moves password hashes to credential accounts that better-auth signs in with", async () => {
    const database = await createEmptyDatabase();
    cleanups.push(database.drop);
    const source = schemaPaths(provider).migrations;
    const names = readdirSync(source, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const upgrade = names.findIndex((n) => n.endsWith("_better_auth"));
    expect(upgrade).toBeGreaterThan(0);
    const before = mkdtempSync(join(tmpdir(), "poolguard-before-better-auth-"));
    cleanups.push(async () => rmSync(before, { recursive: true, force: true }));
    cpSync(join(source, "migration_lock.toml"), join(before, "migration_lock.toml"));
    for (const name of names.slice(0, upgrade)) cpSync(join(source, name), join(before, name), { recursive: true });
    await applyMigrations(database.url, { migrationsDir: before });

    const now = provider === "sqlite" ? Date.now() : new Date();
    const user = 'INSERT INTO "User" ("id","email","name","passwordHash","createdAt","updatedAt") VALUES (?,?,?,?,?,?)';
    const account = 'INSERT INTO "Account" ("id","userId","provider","providerAccountId","createdAt") VALUES (?,?,?,?,?)';
    await sql(database.url, user, ["u1", "ada@example.test", "Ada", legacy.hash, now, now]);
    await sql(database.url, account, ["a1", "u1", "password", "ada@example.test", now]);
    await sql(database.url, account, ["a2", "u1", "github", "4242", now]);
    // A password set without its account row, and an invited user with no password.
    await sql(database.url, user, ["u2", "bob@example.test", "Bob", legacy.hash, now, now]);
    await sql(database.url, user, ["u3", "cy@example.test", "Cy", null, now, now]);
    await sql(database.url, 'INSERT INTO "AuthSession" ("id","tokenHash","userId","expiresAt","createdAt") VALUES (?,?,?,?,?)', ["s1", "f".repeat(64), "u1", now, now]);

    expect(await applyMigrations(database.url)).toEqual(names.slice(upgrade));
    const accounts = await sql(database.url, 'SELECT "id","userId","provider","providerAccountId","password" FROM "Account" ORDER BY "userId", "provider"');
    expect(accounts).toEqual([
      { id: "a1", userId: "u1", provider: "credential", providerAccountId: "u1", password: legacy.hash },
      { id: "a2", userId: "u1", provider: "github", providerAccountId: "4242", password: null },
      { id: "pw_u2", userId: "u2", provider: "credential", providerAccountId: "u2", password: legacy.hash },
    ]);
    expect(await sql(database.url, 'SELECT COUNT(*) AS n FROM "AuthSession"')).toEqual([{ n: provider === "sqlite" ? 0 : "0" }]);
    const users = await sql(database.url, 'SELECT "id","email","emailVerified" FROM "User" ORDER BY "id"');
    expect(users.map((u) => [u.id, u.email, Boolean(u.emailVerified)])).toEqual([
      ["u1", "ada@example.test", false],
      ["u2", "bob@example.test", false],
      ["u3", "cy@example.test", false],
    ]);

    // Both upgraded users sign in with the password they had.
    process.env.DATABASE_URL = database.url;
    const route = await import("../../../app/api/auth/[...all]/route.ts");
    const db = await import("../../../lib/db/index.ts");
    cleanups.push(() => db.disconnectDatabase());
    for (const email of ["ada@example.test", "bob@example.test"]) {
      const response = await route.POST(
        new Request("http://127.0.0.1:3999/api/auth/sign-in/email", {
          method: "POST",
          headers: { "content-type": "application/json", host: "127.0.0.1:3999" },
          body: JSON.stringify({ email, password: legacy.password }),
        }),
      );
      expect(response.status, email).toBe(200);
    }
  });
});
