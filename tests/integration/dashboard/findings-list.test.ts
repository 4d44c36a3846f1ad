// The findings table's server-side paging on a real database: every sort, paged through
// to the end, gives each matching finding exactly once and in the documented order, with
// the right total; filters by severity, rule and folder narrow it; another organization's
// findings never appear.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFreshDatabase } from "../db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let organizationId = "";
const rules = ["session-not-closed", "connection-not-closed", "engine-per-call"];
const severities = ["error", "warning", "info"] as const;

beforeAll(async () => {
  delete process.env.REDIS_URL;
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  const user = await db.createUser({ email: "list@example.test", name: "list" });
  organizationId = (await db.createOrganization({ slug: "list", name: "List", ownerUserId: user.id })).id;
  const other = await db.createOrganization({ slug: "elsewhere", name: "Elsewhere", ownerUserId: user.id });
  const store = async (org: string, name: string, count: number, salt: string) => {
    const repository = await db.createRepository({ organizationId: org, provider: "git", name, cloneUrl: `https://git.example.test/${name}.git` });
    const scan = await db.createScan({ repositoryId: repository.id, trigger: "manual" });
    const findings = Array.from({ length: count }, (_, i) => ({
      rule: rules[i % 3],
      severity: severities[(i * 7) % 3],
      message: `m${i}`,
      // Several findings share a file and a line, so ties are broken by id.
      path: `src/${i % 5 === 0 ? "core" : `mod${i % 4}`}/f${i % 6}.py`,
      line: (i * 13) % 17,
      column: 1,
      end_line: (i * 13) % 17,
      end_column: 2,
      fingerprint: `${salt}-${i}`,
      fix: null,
      suppressed: false,
    }));
    await db.completeScan(scan.id, { tool: { name: "poolguard", version: "0" }, root: "", files_scanned: 30, duration_ms: 1, findings, errors: [] } as never);
  };
  await store(organizationId, "list/a", 160, "a");
  await store(organizationId, "list/b", 77, "b");
  await store(other.id, "elsewhere/c", 50, "c");
});
afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
});

type Row = { id: string; severity: string; path: string; line: number; rule: string; createdAt: Date };
const rank = { error: 0, warning: 1, info: 2 } as Record<string, number>;
const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byPath = (a: Row, b: Row) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || byId(a, b));
const orders: Record<string, (a: Row, b: Row) => number> = {
  severity: (a, b) => rank[a.severity] - rank[b.severity] || byPath(a, b),
  path: byPath,
  rule: (a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : byPath(a, b)),
  newest: (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || byId(a, b),
};

async function allPages(search: Omit<Parameters<typeof db.searchFindings>[0], "page" | "pageSize">) {
  const ids: string[] = [];
  let total = -1;
  for (let page = 1; page < 100; page++) {
    const result = await db.searchFindings({ ...search, page, pageSize: 37 });
    total = result.total;
    ids.push(...result.items.map((f) => f.id));
    if (result.items.length < 37) break;
  }
  return { ids, total };
}

describe("findings table paging", () => {
  it("pages through every sort in order, each finding once, with the total", async () => {
    const all = (await db.listFindings({ organizationId, take: 10_000 })) as Row[];
    expect(all).toHaveLength(237);
    for (const sort of ["severity", "path", "rule", "newest"] as const) {
      const { ids, total } = await allPages({ organizationId, status: "open", sort });
      expect(total, sort).toBe(237);
      expect(ids, sort).toEqual([...all].sort(orders[sort]).map((f) => f.id));
    }
  });

  it("filters by severity, rule and folder", async () => {
    const all = (await db.listFindings({ organizationId, take: 10_000 })) as Row[];
    const warning = await allPages({ organizationId, status: "open", severity: "warning" });
    expect(warning.ids).toEqual(all.filter((f) => f.severity === "warning").sort(orders.severity).map((f) => f.id));
    const rule = await allPages({ organizationId, status: "open", rule: "engine-per-call", severity: "error", sort: "path" });
    expect(rule.ids).toEqual(all.filter((f) => f.rule === "engine-per-call" && f.severity === "error").sort(byPath).map((f) => f.id));
    const folder = await allPages({ organizationId, status: "open", path: "src/core/" });
    expect(folder.total).toBe(all.filter((f) => f.path.startsWith("src/core/")).length);
    expect(folder.ids).toEqual(all.filter((f) => f.path.startsWith("src/core/")).sort(orders.severity).map((f) => f.id));
    expect((await db.searchFindings({ organizationId, status: "ignored" })).total).toBe(0);
    expect((await db.listRepositoryOptions(organizationId)).map((r) => r.name)).toEqual(["list/a", "list/b"]);
  });
});
