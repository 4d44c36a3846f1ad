// Email + password and one-time links through better-auth's real routes (the route
// handlers Next.js serves), on the test database: what a script does with
// POST /api/auth/sign-in/email, the per-email and per-address limits, sessions that
// sign out, passwords hashed before the upgrade, and links that work once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFreshDatabase } from "../db/fresh-database.ts";

let database: Awaited<ReturnType<typeof useFreshDatabase>>;
let db: typeof import("../../../lib/db/index.ts");
let password: typeof import("../../../lib/auth/password.ts");
let auth: typeof import("../../../lib/auth/auth.ts");
let links: typeof import("../../../lib/auth/sign-in-link.ts");
let authRoute: typeof import("../../../app/api/auth/[...all]/route.ts");
let linkRoute: typeof import("../../../app/sign-in/link/route.ts");

const origin = "http://127.0.0.1:3999";
const legacy = {
  password: "a password from before the upgrade",
  hash: "scrypt$16384$8$1$03av7_yg2yzMuN2aTWi25w$g9CUAhQhKVTQXH4foYI_BpCIGTZten5aka1cBC0Tmq6UJ3JEdS1EztugmP7lfePqClVcTZt_1fvH1Q0n_qCgxw",
};

beforeAll(async () => {
  database = await useFreshDatabase();
  db = await import("../../../lib/db/index.ts");
  password = await import("../../../lib/auth/password.ts");
  auth = await import("../../../lib/auth/auth.ts");
  links = await import("../../../lib/auth/sign-in-link.ts");
  authRoute = await import("../../../app/api/auth/[...all]/route.ts");
  linkRoute = await import("../../../app/sign-in/link/route.ts");
});
afterAll(async () => {
  await db?.disconnectDatabase();
  await database?.drop();
});

function signInRequest(body: unknown, address = "198.51.100.1") {
  return new Request(`${origin}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", host: "127.0.0.1:3999", "x-forwarded-for": address },
    body: JSON.stringify(body),
  });
}

/** The Cookie header a browser would send back after these responses. */
function cookieHeader(...responses: Response[]): string {
  return responses
    .flatMap((r) => r.headers.getSetCookie())
    .map((c) => c.split(";")[0])
    .join("; ");
}

async function sessionUser(cookie: string): Promise<string | null> {
  const found = await auth.auth().api.getSession({ headers: new Headers({ cookie }) });
  return found?.user.email ?? null;
}

describe("POST /api/auth/sign-in/email", () => {
  it("signs a script in with email and password and returns a session cookie", async () => {
    await db.createUser({ email: "Script@Example.test", name: "Script", passwordHash: await password.hashPassword("a long enough password") });
    const response = await authRoute.POST(signInRequest({ email: "script@example.test", password: "a long enough password" }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: { email: string } };
    expect(body.user.email).toBe("script@example.test");
    const cookies = response.headers.getSetCookie();
    expect(cookies.some((c) => c.startsWith("poolguard.session_token=") && /HttpOnly/i.test(c) && /SameSite=Lax/i.test(c))).toBe(true);
    const cookie = cookieHeader(response);
    expect(await sessionUser(cookie)).toBe("script@example.test");
    const user = await db.findUserByEmail("script@example.test");
    expect(user?.lastSignInAt).toBeInstanceOf(Date);
    expect(await db.countAuthSessions(user?.id ?? "")).toBe(1);

    // The session cookie works on better-auth's own routes and signs out.
    const session = await authRoute.GET(new Request(`${origin}/api/auth/get-session`, { headers: { cookie, host: "127.0.0.1:3999" } }));
    expect(((await session.json()) as { user: { email: string } }).user.email).toBe("script@example.test");
    const out = await authRoute.POST(new Request(`${origin}/api/auth/sign-out`, { method: "POST", headers: { cookie, host: "127.0.0.1:3999", origin, "content-type": "application/json" }, body: "{}" }));
    expect(out.status).toBe(200);
    expect(await sessionUser(cookie)).toBeNull();
    expect(await db.countAuthSessions(user?.id ?? "")).toBe(0);
  });

  it("refuses a wrong password, an unknown email and a user without a password alike", async () => {
    await db.createUser({ email: "wrong@example.test", name: "W", passwordHash: await password.hashPassword("the right password") });
    await db.createUser({ email: "invited-only@example.test", name: "I" });
    for (const body of [
      { email: "wrong@example.test", password: "not the right password" },
      { email: "nobody@example.test", password: "the right password" },
      { email: "invited-only@example.test", password: "the right password" },
    ]) {
      const response = await authRoute.POST(signInRequest(body, "198.51.100.2"));
      expect(response.status, body.email).toBe(401);
      expect(response.headers.getSetCookie().some((c) => c.startsWith("poolguard.session_token="))).toBe(false);
    }
  });

  it("still signs in users whose password was hashed before the upgrade", async () => {
    await db.createUser({ email: "veteran@example.test", name: "V", passwordHash: legacy.hash });
    const wrong = await authRoute.POST(signInRequest({ email: "veteran@example.test", password: `${legacy.password}?` }, "198.51.100.3"));
    expect(wrong.status).toBe(401);
    const right = await authRoute.POST(signInRequest({ email: "veteran@example.test", password: legacy.password }, "198.51.100.3"));
    expect(right.status).toBe(200);
    expect(await sessionUser(cookieHeader(right))).toBe("veteran@example.test");
  });

  it("limits attempts per email (even with the right password) and per client address", async () => {
    await db.createUser({ email: "target@example.test", name: "T", passwordHash: await password.hashPassword("target's real password") });
    for (let i = 0; i < 10; i++) {
      const response = await authRoute.POST(signInRequest({ email: "target@example.test", password: `guess number ${i}` }, `203.0.113.${i + 1}`));
      expect(response.status).toBe(401);
    }
    const limited = await authRoute.POST(signInRequest({ email: "TARGET@example.test", password: "target's real password" }, "203.0.113.200"));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await limited.json()) as { message: string }).message).toMatch(/Too many sign-in attempts/);
    expect(limited.headers.getSetCookie().some((c) => c.startsWith("poolguard.session_token="))).toBe(false);
    // Another user is not locked out by it.
    await db.createUser({ email: "bystander@example.test", name: "B", passwordHash: await password.hashPassword("bystander's password") });
    expect((await authRoute.POST(signInRequest({ email: "bystander@example.test", password: "bystander's password" }, "203.0.113.201"))).status).toBe(200);

    // One address spraying many emails is stopped after 100 attempts in the window.
    const attempts = await Promise.all(
      Array.from({ length: 101 }, (_, i) => authRoute.POST(signInRequest({ email: `spray-${i}@example.test`, password: "password123456" }, "192.0.2.66")).then((r) => r.status)),
    );
    expect(attempts.filter((s) => s === 401)).toHaveLength(100);
    expect(attempts.filter((s) => s === 429)).toHaveLength(1);
    expect((await authRoute.POST(signInRequest({ email: "bystander@example.test", password: "bystander's password" }, "192.0.2.66"))).status).toBe(429);
  }, 120_000);
});

describe("one-time sign-in links", () => {
  it("start a session once, then are refused", async () => {
    const user = await db.createUser({ email: "linked@example.test", name: "L" });
    const link = await links.createSignInLink(user.id, origin);
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3999\/sign-in\/link\?token=[\w-]{43}$/);
    const request = () => new Request(link, { headers: { host: "127.0.0.1:3999" } });
    const [first, second] = await Promise.all([linkRoute.GET(request()), linkRoute.GET(request())]);
    const answers = [first, second].map((r) => ({ status: r.status, location: r.headers.get("location") }));
    expect(answers).toContainEqual({ status: 302, location: "/repositories" });
    expect(answers).toContainEqual({ status: 302, location: "/sign-in?error=link" });
    const winner = first.headers.get("location") === "/repositories" ? first : second;
    expect(await sessionUser(cookieHeader(winner))).toBe("linked@example.test");
    const again = await linkRoute.GET(request());
    expect(again.headers.get("location")).toBe("/sign-in?error=link");
    const unknown = await linkRoute.GET(new Request(`${origin}/sign-in/link?token=not-a-real-token`, { headers: { host: "127.0.0.1:3999" } }));
    expect(unknown.headers.get("location")).toBe("/sign-in?error=link");
  });
});
