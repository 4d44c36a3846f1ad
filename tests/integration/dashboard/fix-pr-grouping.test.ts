// The repository's fix pull request grouping, as saved on the repository page, decides
// how the "Open fix PR" job splits fixes: one pull request for everything, per folder,
// or per rule (the default). Against the fake GitHub, with a real database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeGitHub } from "../../support/fake-github/index.ts";
import { type FakeGitHubApp, quietLog as quiet, scanJobContext, useFakeGitHubApp } from "../../support/fake-github-app.ts";
import { leakyRepository } from "../../unit/github/setup.ts";

let app: FakeGitHubApp;
let db: FakeGitHubApp["db"];
let fake: FakeGitHub;

beforeAll(async () => {
  app = await useFakeGitHubApp((github) => {
    github.createRepository({ owner: "acme", name: "shop", files: leakyRepository });
    github.createInstallation("acme", ["acme/shop"]);
  });
  ({ db, fake } = app);
});
afterAll(async () => {
  await app?.stop();
});

describe("fix pull request grouping setting", () => {
  it("defaults to one pull request per rule, and the saved grouping is what the job uses", async () => {
    const { registerRepository } = await import("../../../app/api/v1/_lib/repositories.ts");
    const owner = await db.createUser({ email: "owner@acme.test", name: "Owner" });
    const acme = await db.createOrganization({ slug: "acme", name: "Acme", ownerUserId: owner.id });
    const repository = await registerRepository({ tokenId: "", organizationId: acme.id, organizationSlug: "acme", role: "admin" }, { provider: "github", fullName: "acme/shop" });
    expect((await db.getRepositorySettings(repository.id)).fixPrGrouping).toBe("rule");

    const { requestScan } = await import("../../../lib/jobs/index.ts");
    const scanRepository = await import("../../../lib/jobs/scan-repository.ts");
    const { scan } = await requestScan({ dispatchScan: async () => {} }, { repositoryId: repository.id, trigger: "manual", branch: "main" });
    expect(await scanRepository.handle({ scanId: scan.id }, scanJobContext())).toEqual({ kind: "done", status: "succeeded" });
    const safe = (await db.listFindings({ repositoryId: repository.id })).filter((f) => f.fix?.safety === "safe");
    // Two rules (session, connection) in two folders (app/, jobs/).
    expect(new Set(safe.map((f) => f.rule))).toEqual(new Set(["session-not-closed", "connection-not-closed"]));
    expect(new Set(safe.map((f) => f.path.split("/")[0]))).toEqual(new Set(["app", "jobs"]));
    const job = await import("../../../lib/jobs/open-fix-pull-request.ts");
    const openHeads = () =>
      fake
        .pulls("acme/shop")
        .filter((p) => p.state === "open")
        .map((p) => p.head)
        .sort();

    // One pull request for all fixes.
    await db.updateRepositorySettings(repository.id, { fixPrGrouping: "repository" });
    expect((await job.handle({ repositoryId: repository.id, findingIds: safe.map((f) => f.id), actorUserId: owner.id }, { log: quiet })).kind).toBe("done");
    expect(openHeads()).toEqual(["poolguard/fix-all"]);
    const all = await db.getFixPullRequest(repository.id, "poolguard/fix-all");
    expect(all?.findingIds.sort()).toEqual(safe.map((f) => f.id).sort());

    // Per folder: the single pull request is replaced by one per folder.
    await db.updateRepositorySettings(repository.id, { fixPrGrouping: "directory" });
    await job.handle({ repositoryId: repository.id, findingIds: safe.map((f) => f.id), actorUserId: owner.id }, { log: quiet });
    const byFolder = openHeads();
    expect(byFolder).toHaveLength(2);
    expect(byFolder.every((head) => /^poolguard\/fix-(app|jobs)-[0-9a-f]{6}$/.test(head))).toBe(true);
    // The one made under the old grouping is closed with a comment saying why, and recorded so.
    expect(fake.pulls("acme/shop").find((p) => p.head === "poolguard/fix-all")?.state).toBe("closed");
    expect((await db.getFixPullRequest(repository.id, "poolguard/fix-all"))?.state).toBe("closed");

    // Per rule, as by default.
    await db.updateRepositorySettings(repository.id, { fixPrGrouping: "rule" });
    await job.handle({ repositoryId: repository.id, findingIds: safe.map((f) => f.id), actorUserId: owner.id }, { log: quiet });
    expect(openHeads()).toEqual(["poolguard/fix-connection-not-closed", "poolguard/fix-session-not-closed"]);
  });
});
