// Sessions end: a session past its expiry is no session (on better-auth's routes and for the
// dashboard's own reads), a signed-out session cannot be used again, and a cookie-carrying
// request from another site cannot sign anyone out or in (better-auth's origin check on
// every state-changing auth route; the dashboard's mutations are Next.js server actions,
// which refuse a foreign Origin the same way). Runs on the test database of each provider.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawSql } from "../../support/raw-sql.ts";
import { useFreshDatabase } from "../db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let password: typeof import("../../../lib/auth/password.ts");
let auth: typeof import("../../../lib/auth/auth.ts");
let authRoute: typeof import("../../../app/api/auth/[...all]/route.ts");

const origin = "http://127.0.0.1:3999";
const host = "127.0.0.1:3999";

beforeAll(async () => {
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  password = await import("../../../lib/auth/password.ts");
  auth = await import("../../../lib/auth/auth.ts");
  authRoute = await import("../../../app/api/auth/[...all]/route.ts");
});
afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
});

async function signIn(email: string, secret: string): Promise<string> {
  await db.createUser({ email, name: email, passwordHash: await password.hashPassword(secret) });
  const response = await authRoute.POST(
    new Request(`${origin}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", host, origin, "x-forwarded-for": "198.51.100.7" },
      body: JSON.stringify({ email, password: secret }),
    }),
  );
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

async function sessionEmail(cookie: string): Promise<string | null> {
  const response = await authRoute.GET(new Request(`${origin}/api/auth/get-session`, { headers: { cookie, host } }));
  const body = (await response.json()) as { user?: { email: string } } | null;
  return body?.user?.email ?? null;
}

describe("session lifetime", () => {
  it("a session past its expiry is no longer a session", async () => {
    const cookie = await signIn("expiring@example.test", "a long enough password");
    expect(await sessionEmail(cookie)).toBe("expiring@example.test");
    const user = await db.findUserByEmail("expiring@example.test");
    const past = new Date(Date.now() - 60_000);
    // Stored the way each provider stores a DateTime (SQLite: milliseconds since the epoch).
    await rawSql(database.url, 'UPDATE "AuthSession" SET "expiresAt" = ? WHERE "userId" = ?', [database.provider === "sqlite" ? past.getTime() : past, user?.id]);
    expect(await sessionEmail(cookie)).toBeNull();
    expect(await auth.auth().api.getSession({ headers: new Headers({ cookie }) })).toBeNull();
    expect(await db.countAuthSessions(user?.id ?? "")).toBe(0);
  });

  it("a signed-out session stays revoked, and another site cannot sign a user out", async () => {
    const cookie = await signIn("revoked@example.test", "another long password");
    const signOut = (from: string) =>
      authRoute.POST(new Request(`${origin}/api/auth/sign-out`, { method: "POST", headers: { cookie, host, origin: from, "content-type": "application/json" }, body: "{}" }));
    const foreign = await signOut("https://attacker.example");
    expect(foreign.status).toBe(403);
    expect(await sessionEmail(cookie)).toBe("revoked@example.test");
    expect((await signOut(origin)).status).toBe(200);
    expect(await sessionEmail(cookie)).toBeNull();
    // The same cookie again: still nobody.
    expect((await signOut(origin)).status).toBeLessThan(500);
    expect(await sessionEmail(cookie)).toBeNull();
  });

  it("lets a script sign in with Node's fetch headers (no cookie, no Origin), but not a browser that hides its origin", async () => {
    await db.createUser({ email: "script@example.test", name: "S", passwordHash: await password.hashPassword("a script's password") });
    const post = (headers: Record<string, string>) =>
      authRoute.POST(
        new Request(`${origin}/api/auth/sign-in/email`, {
          method: "POST",
          headers: { "content-type": "application/json", host, "x-forwarded-for": "198.51.100.9", ...headers },
          body: JSON.stringify({ email: "script@example.test", password: "a script's password" }),
        }),
      );
    expect((await post({ "sec-fetch-mode": "cors" })).status).toBe(200);
    expect((await post({ "sec-fetch-mode": "cors", "sec-fetch-site": "cross-site" })).status).toBe(403);
  });

  it("refuses a sign-in posted from another site", async () => {
    await db.createUser({ email: "target@example.test", name: "T", passwordHash: await password.hashPassword("the target's password") });
    const response = await authRoute.POST(
      new Request(`${origin}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", host, origin: "https://attacker.example", cookie: "poolguard.session_token=x", "x-forwarded-for": "198.51.100.8" },
        body: JSON.stringify({ email: "target@example.test", password: "the target's password" }),
      }),
    );
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie().some((c) => c.startsWith("poolguard.session_token=") && !/Max-Age=0/i.test(c))).toBe(false);
  });
});
