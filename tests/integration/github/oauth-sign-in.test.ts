// "Sign in with GitHub" against the fake GitHub: the authorize URL on the web host of
// GITHUB_API_URL, the code exchange with the App's client credentials, the identity and
// its verified addresses, and who gets in (linked or invited users only).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "../../support/fake-github/index.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let oauth: typeof import("../../../lib/auth/github-oauth.ts");
let fake: FakeGitHub;

beforeAll(async () => {
  fake = await startFakeGitHub({ pathPrefix: "/api/v3" });
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  oauth = await import("../../../lib/auth/github-oauth.ts");
});
afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
  await fake?.stop();
});

const env = () => ({ GITHUB_API_URL: fake.apiUrl, GITHUB_CLIENT_ID: fake.app.clientId, GITHUB_CLIENT_SECRET: fake.app.clientSecret });

/** What a browser does: open the authorize URL, follow GitHub's redirect to the callback. */
async function authorize(login: string | null, state: string) {
  fake.authorizeAs = login;
  const redirectUri = "http://127.0.0.1:3999/api/auth/github/callback";
  const response = await fetch(oauth.authorizeUrl({ redirectUri, state }, env()), { redirect: "manual" });
  expect(response.status).toBe(302);
  const back = new URL(response.headers.get("location") as string);
  expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
  return { back, redirectUri };
}

describe("sign-in with GitHub", () => {
  it("derives GitHub's web host from the API URL", () => {
    expect(oauth.githubWebUrl({})).toBe("https://github.com");
    expect(oauth.githubWebUrl({ GITHUB_API_URL: "https://api.github.com/" })).toBe("https://github.com");
    expect(oauth.githubWebUrl({ GITHUB_API_URL: "https://ghe.example.com/api/v3" })).toBe("https://ghe.example.com");
    expect(oauth.githubOAuthConfigured({ GITHUB_CLIENT_ID: "x" })).toBe(false);
    expect(oauth.githubOAuthConfigured(env())).toBe(true);
    const url = new URL(oauth.authorizeUrl({ redirectUri: "https://p.example/api/auth/github/callback", state: "s1" }, { GITHUB_API_URL: "https://ghe.example.com/api/v3", GITHUB_CLIENT_ID: "Iv1.abc" }));
    expect(`${url.origin}${url.pathname}`).toBe("https://ghe.example.com/login/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: "Iv1.abc", state: "s1", redirect_uri: "https://p.example/api/auth/github/callback" });
    expect(oauth.statesMatch("abc", "abc")).toBe(true);
    expect(oauth.statesMatch("abc", "abd")).toBe(false);
    expect(oauth.statesMatch(undefined, "abc")).toBe(false);
  });

  it("signs in invited users by a verified address, links them, and lets strangers in never", async () => {
    const invited = await db.createUser({ email: "Dana@Example.test", name: "Dana" });
    fake.setUserEmails("dana", [
      { email: "dana@users.github.test", primary: true },
      { email: "dana@example.test", primary: false, verified: true },
    ]);
    const state = oauth.newOAuthState();
    const { back, redirectUri } = await authorize("dana", state);
    expect(back.searchParams.get("state")).toBe(state);
    const token = await oauth.exchangeCode({ code: back.searchParams.get("code") as string, redirectUri }, env());
    const identity = await oauth.fetchIdentity(token, env());
    expect(identity).toMatchObject({ login: "dana", verifiedEmails: ["dana@users.github.test", "dana@example.test"] });
    expect((await oauth.userForIdentity(identity))?.id).toBe(invited.id);
    // Linked now: the account signs in even once the address is gone from GitHub.
    expect((await oauth.userForIdentity({ ...identity, verifiedEmails: [] }))?.id).toBe(invited.id);
    // A code works once.
    await expect(oauth.exchangeCode({ code: back.searchParams.get("code") as string, redirectUri }, env())).rejects.toThrow(/incorrect or expired/);

    // An unverified address does not count; a stranger gets no user (and none is created).
    await db.createUser({ email: "eve@example.test", name: "Eve" });
    fake.setUserEmails("mallory", [{ email: "eve@example.test", verified: false }]);
    const second = await authorize("mallory", "s2");
    const mallory = await oauth.fetchIdentity(await oauth.exchangeCode({ code: second.back.searchParams.get("code") as string, redirectUri: second.redirectUri }, env()), env());
    expect(mallory.verifiedEmails).toEqual([]);
    expect(await oauth.userForIdentity(mallory)).toBeNull();
    const users = await db.countUsers();
    expect(users).toBe(2);

    // Another GitHub account with a verified copy of Dana's address does not take her user over.
    fake.setUserEmails("dana-alt", [{ email: "dana@example.test" }]);
    const third = await authorize("dana-alt", "s3");
    const alt = await oauth.fetchIdentity(await oauth.exchangeCode({ code: third.back.searchParams.get("code") as string, redirectUri: third.redirectUri }, env()), env());
    expect(await oauth.userForIdentity(alt)).toBeNull();

    // Wrong client credentials are refused by GitHub.
    const fourth = await authorize("dana", "s4");
    await expect(oauth.exchangeCode({ code: fourth.back.searchParams.get("code") as string, redirectUri: fourth.redirectUri }, { ...env(), GITHUB_CLIENT_SECRET: "wrong" })).rejects.toThrow(/incorrect/);
    // Denied on GitHub: the callback gets an error, no code.
    const denied = await authorize(null, "s5");
    expect(denied.back.searchParams.get("error")).toBe("access_denied");
    expect(denied.back.searchParams.get("code")).toBeNull();
  });
});
