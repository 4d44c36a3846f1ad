// "Sign in with GitHub" end to end against the fake GitHub, through the routes Next.js
// serves (/api/auth/github starts, /api/auth/github/callback finishes) and better-auth
// behind them: the authorize URL on the web host of GITHUB_API_URL (GitHub Enterprise
// Server's /api/v3 layout here), the state bound to the browser, the code exchange with
// the App's client credentials, and who gets in (linked or invited users only).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "../../support/fake-github/index.ts";
import { rawSql } from "../../support/raw-sql.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let oauth: typeof import("../../../lib/auth/github-oauth.ts");
let auth: typeof import("../../../lib/auth/auth.ts");
let start: typeof import("../../../app/api/auth/github/route.ts");
let callback: typeof import("../../../app/api/auth/github/callback/route.ts");
let fake: FakeGitHub;
const saved = { ...process.env };

const host = "127.0.0.1:3999";
const redirectUri = `http://${host}/api/auth/github/callback`;

beforeAll(async () => {
  fake = await startFakeGitHub({ pathPrefix: "/api/v3" });
  database = await useFreshDatabase();
  Object.assign(process.env, { GITHUB_API_URL: fake.apiUrl, GITHUB_CLIENT_ID: fake.app.clientId, GITHUB_CLIENT_SECRET: fake.app.clientSecret });
  delete process.env.POOLGUARD_BASE_URL;
  db = await import("../../../lib/db/index.ts");
  oauth = await import("../../../lib/auth/github-oauth.ts");
  auth = await import("../../../lib/auth/auth.ts");
  start = await import("../../../app/api/auth/github/route.ts");
  callback = await import("../../../app/api/auth/github/callback/route.ts");
});
afterAll(async () => {
  process.env = saved;
  await db?.disconnectDatabase();
  await database?.drop();
  await fake?.stop();
});

function cookiesOf(...responses: Response[]): string {
  return responses
    .flatMap((r) => r.headers.getSetCookie())
    .map((c) => c.split(";")[0])
    .filter((c) => !c.endsWith("="))
    .join("; ");
}

/** What a browser does: click "Sign in with GitHub", pass GitHub's authorize page as `login`, come back. */
async function signInAs(login: string | null, options: { tamperState?: boolean } = {}) {
  fake.authorizeAs = login;
  const started = await start.GET(new Request(`http://${host}/api/auth/github`, { headers: { host } }));
  expect(started.status).toBe(303);
  const authorize = new URL(started.headers.get("location") as string);
  const onGitHub = await fetch(authorize, { redirect: "manual" });
  expect(onGitHub.status).toBe(302);
  const back = new URL(onGitHub.headers.get("location") as string);
  expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
  if (options.tamperState) back.searchParams.set("state", "forged");
  const finished = await callback.GET(new Request(back, { headers: { host, cookie: cookiesOf(started) } }));
  expect(finished.status).toBe(303);
  const session = await auth.auth().api.getSession({ headers: new Headers({ cookie: cookiesOf(finished) }) });
  return { authorize, location: finished.headers.get("location"), user: session?.user ?? null };
}

describe("sign-in with GitHub", () => {
  it("derives GitHub's web host from the API URL", () => {
    expect(oauth.githubWebUrl({})).toBe("https://github.com");
    expect(oauth.githubWebUrl({ GITHUB_API_URL: "https://api.github.com/" })).toBe("https://github.com");
    expect(oauth.githubWebUrl({ GITHUB_API_URL: "https://ghe.example.com/api/v3" })).toBe("https://ghe.example.com");
    expect(oauth.githubWebUrl({ GITHUB_API_URL: "https://api.acme.ghe.com" })).toBe("https://acme.ghe.com");
    expect(oauth.githubOAuthConfigured({ GITHUB_CLIENT_ID: "x" })).toBe(false);
    const provider = oauth.githubProvider({ GITHUB_API_URL: "https://ghe.example.com/api/v3", GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "s", POOLGUARD_BASE_URL: "https://p.example/" });
    expect(provider).toMatchObject({ authorizationUrl: "https://ghe.example.com/login/oauth/authorize", tokenUrl: "https://ghe.example.com/login/oauth/access_token", clientId: "Iv1.abc" });
    expect(provider.redirectURI).toBe("https://p.example/api/auth/github/callback");
  });

  it("signs in invited users by a verified address, links them, and lets strangers in never", async () => {
    const invited = await db.createUser({ email: "Dana@Example.test", name: "Dana" });
    fake.setUserEmails("dana", [
      { email: "dana@users.github.test", primary: true },
      { email: "dana@example.test", primary: false, verified: true },
    ]);
    const first = await signInAs("dana");
    expect(`${first.authorize.origin}${first.authorize.pathname}`).toBe(`${new URL(fake.apiUrl).origin}/login/oauth/authorize`);
    expect(Object.fromEntries(first.authorize.searchParams)).toMatchObject({ client_id: fake.app.clientId, redirect_uri: redirectUri, allow_signup: "false" });
    expect(first.location).toBe("/repositories");
    expect(first.user?.id).toBe(invited.id);
    expect(await db.countUsers()).toBe(1);
    // GitHub's user token is kept on the account row encrypted, never as issued (ghu_...).
    const stored = await rawSql(database.url, 'SELECT "accessToken" FROM "Account" WHERE "provider" = ?', ["github"]);
    expect(stored).toHaveLength(1);
    expect(String(stored[0].accessToken ?? "")).not.toBe("");
    expect(String(stored[0].accessToken)).not.toMatch(/gh[uop]_/);

    // Linked now: the account signs in even once the address is gone from GitHub.
    fake.setUserEmails("dana", [{ email: "dana@users.github.test", primary: true }]);
    const again = await signInAs("dana");
    expect(again.user?.id).toBe(invited.id);

    // An unverified address does not count; a stranger gets no user (and none is created).
    await db.createUser({ email: "eve@example.test", name: "Eve" });
    fake.setUserEmails("mallory", [{ email: "eve@example.test", verified: false }]);
    const mallory = await signInAs("mallory");
    expect(mallory.location).toBe("/sign-in/github?login=mallory");
    expect(mallory.user).toBeNull();
    expect(await db.countUsers()).toBe(2);

    // Another GitHub account with a verified copy of Dana's address does not take her user over.
    fake.setUserEmails("dana-alt", [{ email: "dana@example.test" }]);
    const alt = await signInAs("dana-alt");
    expect(alt.location).toBe("/sign-in/github?login=dana-alt");
    expect(alt.user).toBeNull();
  });

  it("refuses a state that did not start in this browser, a denial and wrong client credentials", async () => {
    await db.createUser({ email: "frank@example.test", name: "Frank" });
    fake.setUserEmails("frank", [{ email: "frank@example.test", primary: true }]);
    const forged = await signInAs("frank", { tamperState: true });
    expect(forged.location).toBe("/sign-in?error=github-state");
    expect(forged.user).toBeNull();
    // A callback that never started here (no state cookie) is refused the same way.
    const stray = await callback.GET(new Request(`http://${host}/api/auth/github/callback?code=abc&state=forged`, { headers: { host } }));
    expect(stray.headers.get("location")).toBe("/sign-in?error=github-state");

    const denied = await signInAs(null);
    expect(denied.location).toBe("/sign-in?error=github-denied");

    const secret = fake.app.clientSecret;
    (fake.app as { clientSecret: string }).clientSecret = "rotated on GitHub";
    try {
      const refused = await signInAs("frank");
      expect(refused.location).toBe("/sign-in?error=github");
      expect(refused.user).toBeNull();
    } finally {
      (fake.app as { clientSecret: string }).clientSecret = secret;
    }
    expect((await signInAs("frank")).location).toBe("/repositories");
  });
});
