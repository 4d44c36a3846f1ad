// Shared set-up for the GitHub layer's tests: a fake GitHub with a small Python
// repository whose findings have safe fixes, and a client pointed at it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGitHubClient, type GitHubClient } from "../../../lib/github/client.ts";
import { downloadSnapshotToDirectory } from "../../../lib/github/snapshot.ts";
import { type FakeGitHub, startFakeGitHub } from "../../support/fake-github/index.ts";

/** Another leaky job, with a safe fix, for "the findings changed". */
export const reportJob = 'from app.db import SessionLocal\n\n\ndef report():\n    session = SessionLocal()\n    session.execute("INSERT INTO reports DEFAULT VALUES")\n    session.commit()\n';

export const leakyRepository: Record<string, string> = {
  "app/db.py": 'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\nengine = create_engine("sqlite://")\nSessionLocal = sessionmaker(bind=engine)\n',
  "app/users.py":
    'from app.db import SessionLocal, engine\n\n\ndef touch_users():\n    session = SessionLocal()\n    session.execute("UPDATE users SET seen = 1")\n    session.commit()\n\n\ndef ping():\n    conn = engine.connect()\n    conn.execute("SELECT 1")\n',
  "jobs/cleanup.py": 'from app.db import SessionLocal\n\n\ndef purge():\n    session = SessionLocal()\n    session.execute("DELETE FROM sessions")\n    session.commit()\n',
  "README.md": "# shop\n",
};

export type Harness = {
  fake: FakeGitHub;
  client: GitHubClient;
  token: string;
  fullName: string;
  /** Download the default branch's head into a fresh folder. */
  snapshot(): Promise<{ root: string; sha: string; branch: string }>;
  cleanup(): Promise<void>;
};

export async function harness(options: { pathPrefix?: string; files?: Record<string, string> } = {}): Promise<Harness> {
  const fake = await startFakeGitHub({ pathPrefix: options.pathPrefix });
  fake.createRepository({ owner: "acme", name: "shop", files: options.files ?? leakyRepository });
  const token = fake.personalAccessToken("poolguard-bot");
  const client = createGitHubClient({ auth: { type: "token", token }, apiUrl: fake.apiUrl, writePauseMs: 5, notificationPauseMs: 5, retryBaseMs: 10 });
  const dirs: string[] = [];
  return {
    fake,
    client,
    token,
    fullName: "acme/shop",
    async snapshot() {
      const head = await client.resolveHead("acme", "shop");
      const root = mkdtempSync(join(tmpdir(), "pg-snap-"));
      dirs.push(root);
      rmSync(root, { recursive: true });
      await downloadSnapshotToDirectory(client, { owner: "acme", repo: "shop", sha: head.sha, target: root });
      return { root, sha: head.sha, branch: head.branch };
    },
    async cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await fake.stop();
    },
  };
}
