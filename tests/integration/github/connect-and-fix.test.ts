// Connecting a GitHub App installation's repository and opening fix pull requests for
// picked findings, end to end against the fake GitHub with App authentication: the
// installations are listed live through the App, the Installation row is claimed by the
// organization that connects first, scans download the head commit by sha, and the fix
// pull request job records the pull request the finding page links to.
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
    github.createRepository({ owner: "acme", name: "docs", files: { "README.md": "# docs\n" } });
    github.createRepository({ owner: "other", name: "private-tool", files: { "README.md": "# tool\n" } });
    github.createInstallation("acme", ["acme/shop", "acme/docs"]);
    github.createInstallation("other", ["other/private-tool"]);
  });
  ({ db, fake } = app);
});
afterAll(async () => {
  await app?.stop();
});

describe("GitHub App repositories", () => {
  it("are listed live, connected with their installation, scanned by sha, and get fix pull requests for picked findings", async () => {
    const { listConnectableGitHubRepositories, registerRepository } = await import("../../../app/api/v1/_lib/repositories.ts");
    const owner = await db.createUser({ email: "owner@acme.test", name: "Owner" });
    const acme = await db.createOrganization({ slug: "acme", name: "Acme", ownerUserId: owner.id });
    const rival = await db.createOrganization({ slug: "rival", name: "Rival", ownerUserId: owner.id });
    const caller = (o: { id: string; slug: string }) => ({ tokenId: "", organizationId: o.id, organizationSlug: o.slug, role: "admin" as const });

    const listed = await listConnectableGitHubRepositories(acme.id);
    expect(listed?.map((r) => [r.fullName, r.account, r.connected])).toEqual([
      ["acme/docs", "acme", false],
      ["acme/shop", "acme", false],
      ["other/private-tool", "other", false],
    ]);

    const repository = await registerRepository(caller(acme), { provider: "github", fullName: "acme/shop" });
    expect(repository).toMatchObject({ provider: "github", name: "acme/shop", defaultBranch: "main", private: true });
    expect(repository.installationId).not.toBeNull();
    expect(Number(repository.githubId)).toBe(fake.repos.get("acme/shop")?.id);
    const { repositoryInstallation } = await import("../../../lib/db/github-connections.ts");
    expect(await repositoryInstallation(repository.id)).toEqual({ githubId: [...fake.installations.values()].find((i) => i.account === "acme")?.id });
    // Connected: marked in the list; the daily schedule is on.
    expect((await listConnectableGitHubRepositories(acme.id))?.find((r) => r.fullName === "acme/shop")?.connected).toBe(true);
    const { getRepositorySchedule } = await import("../../../lib/jobs/index.ts");
    expect((await getRepositorySchedule(repository.id)).enabled).toBe(true);

    // The installation now belongs to Acme: another organization neither sees nor connects it.
    expect((await listConnectableGitHubRepositories(rival.id))?.map((r) => r.fullName)).toEqual(["other/private-tool"]);
    await expect(registerRepository(caller(rival), { provider: "github", fullName: "acme/docs" })).rejects.toMatchObject({ status: 400 });
    await expect(registerRepository(caller(acme), { provider: "github", fullName: "acme/shop" })).rejects.toMatchObject({ status: 409 });
    await expect(registerRepository(caller(acme), { provider: "github", fullName: "acme/missing" })).rejects.toMatchObject({ status: 400 });

    // A scan downloads the head commit's tarball through the installation.
    const { requestScan } = await import("../../../lib/jobs/index.ts");
    const scanRepository = await import("../../../lib/jobs/scan-repository.ts");
    const { scan } = await requestScan({ dispatchScan: async () => {} }, { repositoryId: repository.id, trigger: "manual", branch: "main" });
    expect(await scanRepository.handle({ scanId: scan.id }, scanJobContext())).toEqual({ kind: "done", status: "succeeded" });
    expect((await db.getScan(scan.id))?.commitSha).toBe(fake.branchSha("acme/shop", "main"));
    const findings = await db.listFindings({ repositoryId: repository.id });
    const session = findings.filter((f) => f.rule === "session-not-closed");
    expect(session.length).toBe(2);

    // Pick one session finding: one pull request, with only that finding, recorded with its URL.
    const job = await import("../../../lib/jobs/open-fix-pull-request.ts");
    const first = await job.handle({ repositoryId: repository.id, findingIds: [session[0].id], actorUserId: owner.id }, { log: quiet });
    expect(first.kind).toBe("done");
    const pulls = fake.pulls("acme/shop");
    expect(pulls.map((p) => [p.head, p.state])).toEqual([["poolguard/fix-session-not-closed", "open"]]);
    const view = await db.getFindingInOrganization(session[0].id, acme.id);
    expect(view?.pullRequests.map((pr) => [pr.number, pr.state, pr.url])).toEqual([[pulls[0].number, "open", `${fake.origin}/acme/shop/pull/${pulls[0].number}`]]);
    expect(view?.history.map((e) => e.action)).toContain("finding.fix-pr-opened");
    expect((await db.getFindingInOrganization(session[1].id, acme.id))?.pullRequests).toEqual([]);

    // Picking the other one later keeps the first in the same pull request.
    await job.handle({ repositoryId: repository.id, findingIds: [session[1].id], actorUserId: owner.id }, { log: quiet });
    expect(fake.pulls("acme/shop").length).toBe(1);
    const row = await db.getFixPullRequest(repository.id, "poolguard/fix-session-not-closed");
    expect(row?.findingIds.sort()).toEqual(session.map((f) => f.id).sort());

    // The same request again makes no write at all.
    fake.clearLog();
    await job.handle({ repositoryId: repository.id, findingIds: [session[1].id], actorUserId: owner.id }, { log: quiet });
    expect(fake.writeCount()).toBe(0);

    // Through the request function (database transport: runs in this process): pending, then done.
    const connection = findings.find((f) => f.rule === "connection-not-closed");
    expect(connection?.fix?.safety).toBe("safe");
    const { requestFixPullRequests } = await import("../../../lib/jobs/index.ts");
    await requestFixPullRequests({ organizationId: acme.id, repositoryId: repository.id, findingIds: [connection?.id as string], actorUserId: owner.id, log: quiet });
    expect((await db.getFindingInOrganization(connection?.id as string, acme.id))?.history.at(-1)?.action).toBe("finding.fix-pr-requested");
    const deadline = Date.now() + 20_000;
    let actions: string[] = [];
    while (Date.now() < deadline) {
      actions = ((await db.getFindingInOrganization(connection?.id as string, acme.id))?.history ?? []).map((e) => e.action);
      if (actions.includes("finding.fix-pr-opened") || actions.includes("finding.fix-pr-failed")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(actions).toEqual(["finding.fix-pr-requested", "finding.fix-pr-opened"]);
    expect(fake.pulls("acme/shop").map((p) => p.head).sort()).toEqual(["poolguard/fix-connection-not-closed", "poolguard/fix-session-not-closed"]);

    // A finding of another organization's repository is not touched through these ids.
    const failed = await job.handle({ repositoryId: repository.id, findingIds: ["not-a-finding"], actorUserId: owner.id }, { log: quiet });
    expect(failed.kind).toBe("failed");
  });
});
