import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody } from "../../support/fake-github/index.ts";
import { type BotHarness, botHarness, dbModule, leakyModule } from "./harness.ts";

// The webhook endpoint over real HTTP, and a pull request reviewed end to end against
// the fake GitHub: check run, annotations, suggestions, no duplicates across pushes.

let h: BotHarness;

// A leak followed by enough other code that a change at the end of the file leaves it outside the diff.
const preExisting = `from app.db import SessionLocal\n\n\ndef old_job():\n    session = SessionLocal()\n    session.execute("SELECT 1")\n    session.commit()\n${Array.from({ length: 6 }, (_, i) => `\n\ndef helper_${i}():\n    return ${i}\n`).join("")}`;

beforeAll(async () => {
  h = await botHarness({ files: { "app/db.py": dbModule, "app/old.py": preExisting, "README.md": "# shop\n" } });
});
afterAll(async () => {
  await h.cleanup();
});

async function deliveries() {
  const { db: client } = await import("../../../lib/db/client.ts");
  return client().webhookDelivery.findMany({ orderBy: { receivedAt: "asc" } });
}

function checkRuns(sha: string) {
  return h.fake.repos.get("acme/shop")?.checkRuns.filter((r) => r.headSha === sha) ?? [];
}

describe("POST /api/github/webhooks", () => {
  it("refuses a bad or missing signature with 401 and records and queues nothing", async () => {
    const body = JSON.stringify(await h.pullRequestPayload("opened", await h.openPullRequest("sig", { "app/sig.py": leakyModule(1, "sig") })));
    const headers = { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": "sig-1" };
    const wrong = await fetch(h.url, { method: "POST", headers: { ...headers, "x-hub-signature-256": signWebhookBody("not-the-secret", body) }, body });
    expect(wrong.status).toBe(401);
    const missing = await fetch(h.url, { method: "POST", headers, body });
    expect(missing.status).toBe(401);
    // Signed over a different body (one byte changed): still refused.
    const tampered = await fetch(h.url, { method: "POST", headers: { ...headers, "x-hub-signature-256": signWebhookBody(h.secret, body) }, body: `${body} ` });
    expect(tampered.status).toBe(401);
    await h.settle();
    expect(await deliveries()).toHaveLength(0);
    expect(h.fake.log.filter((e) => e.path.includes("check-runs"))).toHaveLength(0);
  });

  it("answers fast, records a redelivered delivery once and processes it once", async () => {
    const number = await h.openPullRequest("redeliver", { "app/redeliver.py": leakyModule(1, "re") });
    const payload = await h.pullRequestPayload("opened", number);
    const started = performance.now();
    const first = await h.deliver("pull_request", "pull-request-opened", payload);
    const answeredMs = performance.now() - started;
    expect(first.status).toBe(202);
    expect(answeredMs).toBeLessThan(1000);
    const again = await h.deliver("pull_request", "pull-request-opened", payload, first.deliveryId);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ duplicate: true });
    await h.settle();
    const rows = (await deliveries()).filter((d) => d.deliveryId === first.deliveryId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: "pull_request", action: "opened", status: "processed" });
    expect(checkRuns(payload.pull_request.head.sha)).toHaveLength(1);
  });
});

describe("a pull request review", () => {
  it("marks new and pre-existing findings, suggests safe fixes in the diff, and never duplicates a comment", async () => {
    // Changes a file with a pre-existing finding (its last line only) and adds a new leak.
    const number = await h.openPullRequest("feature", {
      "app/old.py": `${preExisting}\n\ndef unrelated():\n    return 1\n`,
      "app/new.py": leakyModule(1, "fresh"),
    });
    const payload = await h.pullRequestPayload("opened", number);
    expect((await h.deliver("pull_request", "pull-request-opened", payload)).status).toBe(202);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run).toMatchObject({ name: "Poolguard", status: "completed", conclusion: "failure" });
    expect(run?.output.title).toBe("1 new, 1 pre-existing, 0 fixed findings");
    expect(run?.output.summary).toContain("| new in this pull request | 1 |");
    expect(run?.output.summary).toContain("https://poolguard.test/findings?");
    // The new leak's fix lies in the diff: a suggestion. The old leak's lines are not in the diff: an annotation.
    const comments = h.fake.repos.get("acme/shop")?.reviewComments.filter((c) => c.pull === number) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.path).toBe("app/new.py");
    expect(comments[0]?.body).toContain("```suggestion\n    with SessionLocal() as session:");
    expect(comments[0]?.body).toMatch(/<!-- poolguard:finding=[0-9a-f]+ -->/);
    expect(run?.output.annotations).toHaveLength(1);
    expect(run?.output.annotations[0]).toMatchObject({ path: "app/old.py", title: "session-not-closed (pre-existing)" });

    // Two more pushes: one unrelated, one that fixes the new leak by hand.
    h.push("feature", { "README.md": "# shop\n\nmore\n" });
    await h.deliver("pull_request", "pull-request-synchronize", await h.pullRequestPayload("synchronize", number));
    await h.settle();
    const fixedSha = h.push("feature", { "app/new.py": 'from app.db import SessionLocal\n\n\ndef fresh_0():\n    with SessionLocal() as session:\n        session.execute("SELECT 0")\n        session.commit()\n' });
    await h.deliver("pull_request", "pull-request-synchronize", await h.pullRequestPayload("synchronize", number));
    await h.settle();
    const after = h.fake.repos.get("acme/shop")?.reviewComments.filter((c) => c.pull === number) ?? [];
    expect(after).toHaveLength(1);
    expect(after[0]?.body).toContain("**Fixed**");
    const [last] = checkRuns(fixedSha);
    // Only the pre-existing finding remains in the changed files.
    expect(last).toMatchObject({ conclusion: "neutral" });
    expect(last?.output.title).toBe("0 new, 1 pre-existing, 0 fixed findings");
  });

  it("reads the configuration from the base branch, not from the pull request", async () => {
    const number = await h.openPullRequest("switch-off", { "poolguard.yml": "rules:\n  session-not-closed: off\n", "app/sneaky.py": leakyModule(1, "sneaky") });
    const payload = await h.pullRequestPayload("opened", number);
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    expect(checkRuns(payload.pull_request.head.sha)[0]).toMatchObject({ conclusion: "failure" });
  });

  it("counts a finding of the base that the pull request removes as fixed", async () => {
    const number = await h.openPullRequest("fix-old", { "app/old.py": preExisting.replace("    session = SessionLocal()\n    session.execute(\"SELECT 1\")\n    session.commit()\n", "    with SessionLocal() as session:\n        session.execute(\"SELECT 1\")\n") });
    const payload = await h.pullRequestPayload("opened", number);
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run).toMatchObject({ conclusion: "success" });
    expect(run?.output.title).toBe("0 new, 0 pre-existing, 1 fixed findings");
    expect(run?.output.summary).toContain("| fixed by this pull request | 1 |");
  });

  it("knows what an unchanged module's function returns, through the modules the changed file imports", async () => {
    // On the default branch: a wrapper two imports away from the sessionmaker.
    h.push("main", { "app/__init__.py": "", "app/helpers.py": "from .db import SessionLocal\n\n\ndef open_session():\n    return SessionLocal()\n" });
    const number = await h.openPullRequest("wrapper", { "app/report.py": 'from app.helpers import open_session\n\n\ndef report():\n    session = open_session()\n    session.execute("SELECT 1")\n' });
    const payload = await h.pullRequestPayload("opened", number);
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    const [run] = checkRuns(payload.pull_request.head.sha);
    expect(run).toMatchObject({ conclusion: "failure" });
    expect(run?.output.title).toBe("1 new, 0 pre-existing, 0 fixed findings");
    const annotated = (run?.output.annotations ?? []) as { path: string }[];
    const suggested = h.fake.repos.get("acme/shop")?.reviewComments.filter((c) => c.pull === number) ?? [];
    const flagged = [...annotated, ...suggested].map((a) => a.path);
    expect(flagged).toEqual(["app/report.py"]);
  });

  it("passes a pull request that adds no finding", async () => {
    const number = await h.openPullRequest("docs", { "docs/notes.md": "notes\n" });
    const payload = await h.pullRequestPayload("opened", number);
    await h.deliver("pull_request", "pull-request-opened", payload);
    await h.settle();
    expect(checkRuns(payload.pull_request.head.sha)[0]).toMatchObject({ conclusion: "success" });
    expect(h.fake.repos.get("acme/shop")?.reviews.filter((r) => r.pull === number)).toHaveLength(0);
  });
});
