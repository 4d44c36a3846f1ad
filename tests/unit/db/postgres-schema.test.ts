import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { postgresSchemaPath, renderPostgresSchema, sqliteSchemaPath } from "../../../scripts/generate-postgres-schema.mjs";
import { providerFromUrl } from "../../../scripts/lib/migrations.mjs";
import { providerOf, redactUrl } from "../../../lib/db/client.ts";

describe("PostgreSQL schema", () => {
  it("is the generated copy of prisma/schema.prisma (run `npm run db:postgres-schema` when this fails)", () => {
    const expected = renderPostgresSchema(readFileSync(sqliteSchemaPath, "utf8"));
    expect(readFileSync(postgresSchemaPath, "utf8")).toBe(expected);
  });

  it("differs from the SQLite schema only in provider and client output", () => {
    const rendered = renderPostgresSchema('datasource db {\n  provider = "sqlite"\n}\ngenerator client {\n  output       = "../lib/db/generated/sqlite"\n}\n');
    expect(rendered).toContain('provider = "postgresql"');
    expect(rendered).toContain("../../lib/db/generated/postgresql");
    expect(() => renderPostgresSchema("model A {\n  id String @id\n}\n")).toThrow(/expected provider/);
  });
});

describe("DATABASE_URL selects the provider", () => {
  it.each([
    ["file:./data/poolguard.db", "sqlite"],
    ["postgres://u:p@127.0.0.1:5432/db", "postgresql"],
    ["postgresql://127.0.0.1/db", "postgresql"],
  ])("%s -> %s", (url, provider) => {
    expect(providerOf(url)).toBe(provider);
    expect(providerFromUrl(url)).toBe(provider);
  });

  it("rejects other URLs with a clear message", () => {
    expect(() => providerOf("mysql://x")).toThrow(/DATABASE_URL must start with/);
  });

  it("never shows a password", () => {
    expect(redactUrl("postgresql://app:s3cret@db.internal:5432/poolguard")).toBe("postgresql://app:***@db.internal:5432/poolguard");
  });
});
