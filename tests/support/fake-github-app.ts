// The set-up shared by in-process tests of Poolguard acting as a GitHub App: the fake
// GitHub (real HTTP on 127.0.0.1) with the repositories and installations the test
// creates, this process's environment pointed at it (App id and key, API URL; no token,
// no Redis, so jobs use the database transport), and a fresh migrated database. `stop`
// puts everything back.
import { useFreshDatabase } from "../integration/db/fresh-database.ts";
import { type FakeGitHub, startFakeGitHub } from "./fake-github/index.ts";

export type FakeGitHubApp = {
  fake: FakeGitHub;
  db: typeof import("../../lib/db/index.ts");
  stop: () => Promise<void>;
};

const keys = ["GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "REDIS_URL", "DATABASE_URL"] as const;

/** A log that drops everything (the jobs' `log` option). */
export const quietLog = { info: () => {}, error: () => {} };

/** What the scan job gets from a runner, for running one scan in this process. */
export function scanJobContext() {
  return { owner: "t", leaseMs: 30_000, heartbeatMs: 1000, signal: new AbortController().signal, dispatcher: { dispatchScan: async () => {} }, log: quietLog };
}

export async function useFakeGitHubApp(setup: (fake: FakeGitHub) => void): Promise<FakeGitHubApp> {
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  delete process.env.REDIS_URL;
  delete process.env.GITHUB_TOKEN;
  const fake = await startFakeGitHub();
  setup(fake);
  process.env.GITHUB_API_URL = fake.apiUrl;
  process.env.GITHUB_APP_ID = String(fake.app.id);
  // As it is written in an .env file: one line, newlines escaped.
  process.env.GITHUB_APP_PRIVATE_KEY = fake.app.privateKey.replace(/\n/g, "\\n");
  const database = await useFreshDatabase();
  const db = await import("../../lib/db/index.ts");
  return {
    fake,
    db,
    async stop() {
      await db.disconnectDatabase();
      await database.drop();
      await fake.stop();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}
