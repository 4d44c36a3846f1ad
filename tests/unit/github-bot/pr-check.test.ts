import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitHubClient } from "../../../lib/github/index.ts";
import { main } from "../../../lib/cli/main.ts";
import { type FakeGitHub, startFakeGitHub } from "../../support/fake-github/index.ts";

// Token mode: `poolguard pr-check` against the fake GitHub over HTTP. Tokens cannot
// create check runs, so the result is a commit status and one summary comment.

let fake: FakeGitHub;
const db = 'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\nengine = create_engine("sqlite://")\nSessionLocal = sessionmaker(bind=engine)\n';
const leak = (name: string) => `from app.db import SessionLocal\n\n\ndef ${name}():\n    session = SessionLocal()\n    session.execute("SELECT 1")\n    session.commit()\n`;

beforeAll(async () => {
  fake = await startFakeGitHub();
  fake.createRepository({ owner: "acme", name: "shop", files: { "app/db.py": db, "app/old.py": leak("old") } });
});
afterAll(async () => {
  await fake.stop();
});

async function run(args: string[], token: string) {
  let out = "";
  let err = "";
  const env = { GITHUB_TOKEN: token, GITHUB_API_URL: fake.apiUrl } as unknown as NodeJS.ProcessEnv;
  const stdout = (s: string) => {
    out += s;
  };
  const stderr = (s: string) => {
    err += s;
  };
  const code = await main(["pr-check", ...args], { stdout, stderr, isTty: false, env });
  return { code, out, err };
}

describe("poolguard pr-check", () => {
  it("posts a commit status and keeps one summary comment up to date across pushes", async () => {
    const token = fake.personalAccessToken("ci-bot");
    fake.repos.get("acme/shop")?.git.setRef("refs/heads/feature", fake.branchSha("acme/shop", "main") as string);
    fake.commitFiles("acme/shop", "feature", { "app/new.py": leak("fresh") }, { message: "add", author: { name: "dev", email: "dev@x.test" } });
    const dev = createGitHubClient({ auth: { type: "token", token: fake.personalAccessToken("dev") }, apiUrl: fake.apiUrl, writePauseMs: 1 });
    const { data: pr } = await dev.octokit.rest.pulls.create({ owner: "acme", repo: "shop", title: "t", head: "feature", base: "main" });

    const first = await run(["--repo", "acme/shop", "--pr", String(pr.number)], token);
    expect(first.err).toBe("");
    expect(first.code).toBe(1);
    expect(first.out).toContain("1 new, 0 pre-existing, 0 fixed; status failure; summary comment created");
    expect(fake.commitStatuses("acme/shop", pr.head.sha)[0]).toMatchObject({ state: "failure", context: "poolguard" });
    // No check run: tokens cannot create them.
    expect(fake.repos.get("acme/shop")?.checkRuns).toHaveLength(0);

    // The leak is fixed by hand: same comment, updated; status success.
    const sha = fake.commitFiles("acme/shop", "feature", { "app/new.py": 'from app.db import SessionLocal\n\n\ndef fresh():\n    with SessionLocal() as session:\n        session.execute("SELECT 1")\n' }, { message: "fix", author: { name: "dev", email: "dev@x.test" } });
    const second = await run(["--repo", "acme/shop", "--pr", String(pr.number)], token);
    expect(second.code).toBe(0);
    expect(second.out).toContain("summary comment updated");
    expect(fake.commitStatuses("acme/shop", sha)[0]).toMatchObject({ state: "success" });
    const third = await run(["--repo", "acme/shop", "--pr", String(pr.number)], token);
    expect(third.out).toContain("summary comment unchanged");
    const comments = fake.repos.get("acme/shop")?.comments.filter((c) => c.issue === pr.number) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("<!-- poolguard:pr-summary -->");
    expect(comments[0]?.body).toContain("| fixed by this pull request | 0 |");
  });

  it("refuses to run without a token or a pull request number", async () => {
    expect((await run(["--repo", "acme/shop", "--pr", "1"], "")).code).toBe(2);
    const missing = await run(["--repo", "acme/shop"], "x");
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--pr N");
  });
});
