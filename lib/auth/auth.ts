import { createHmac } from "node:crypto";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { betterAuth } from "better-auth/minimal";
import { nextCookies } from "better-auth/next-js";
import { genericOAuth } from "better-auth/plugins";
import { loadSecretKey } from "../crypto/secrets.ts";
import { authDatabaseAdapter, authModels } from "../db/auth-adapter.ts";
import { normalizeEmail, touchUserSignIn } from "../db/users.ts";
import { clientAddress, signInLimits } from "../security/rate-limit.ts";
import { githubOAuthConfigured, githubProvider } from "./github-oauth.ts";
import { oneTimeLink } from "./one-time-link.ts";
import { hashPassword, minimumPasswordLength, verifyPassword } from "./password.ts";
import { sessionLifetimeSeconds } from "./tokens.ts";

// Sign-in is better-auth's: email + password, "Sign in with GitHub" (generic OAuth, so
// GitHub Enterprise Server works), one-time links, sessions, all on our Prisma tables
// (lib/db/auth-adapter.ts). Organizations, memberships and invitations stay Poolguard's
// own tables, and lib/auth/access.ts is the one place that checks them.
// Its HTTP routes live under /api/auth (app/api/auth/[...all]); scripts sign in with
// POST /api/auth/sign-in/email { "email", "password" }.

/** better-auth signs cookies with a key derived from Poolguard's secret key (never the key itself). */
function authSecret(): string {
  return createHmac("sha256", loadSecretKey()).update("poolguard better-auth cookie signing").digest("hex");
}

const signInEmailPath = "/sign-in/email";

function tooManyAttempts(retryAfterSeconds: number): APIError {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return new APIError(
    "TOO_MANY_REQUESTS",
    { code: "TOO_MANY_SIGN_IN_ATTEMPTS", message: `Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.` },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

function createAuth() {
  const baseURL = process.env.POOLGUARD_BASE_URL?.trim() || undefined;
  return betterAuth({
    appName: "Poolguard",
    secret: authSecret(),
    // Unset: each request's own host (lib/auth/handler.ts rebuilds it from the Host header).
    baseURL,
    basePath: "/api/auth",
    database: authDatabaseAdapter(),
    telemetry: { enabled: false },
    user: authModels.user,
    session: { ...authModels.session, expiresIn: sessionLifetimeSeconds, updateAge: 24 * 60 * 60 },
    account: {
      ...authModels.account,
      encryptOAuthTokens: true,
      // GitHub accounts are linked to invited users by a verified address GitHub reports;
      // lib/auth/github-oauth.ts decides who that may be before better-auth sees the email.
      accountLinking: { enabled: true, trustedProviders: ["github"], requireLocalEmailVerified: false },
    },
    verification: authModels.verification,
    emailAndPassword: {
      enabled: true,
      // Users are created by admins (first-run admin, invitations, admin create-user).
      disableSignUp: true,
      minPasswordLength: minimumPasswordLength,
      maxPasswordLength: 256,
      password: { hash: hashPassword, verify: ({ hash, password }) => verifyPassword(password, hash) },
    },
    // Sign-in attempts are limited per email and per client address by our limiter (in
    // the hook below, for the form and the HTTP route alike); better-auth's own limiter
    // counts per address only.
    rateLimit: { enabled: false },
    advanced: {
      // Every state-changing request that carries a cookie must come from a trusted origin
      // (the request's own host, or POOLGUARD_BASE_URL). Said outright because better-auth
      // turns the check off by default under NODE_ENV=test, where it must be tested too.
      disableOriginCheck: false,
      cookiePrefix: "poolguard",
      useSecureCookies: baseURL?.startsWith("https://") ?? false,
      database: { generateId: false },
      ipAddress: { ipAddressHeaders: ["x-forwarded-for", "x-real-ip"] },
    },
    databaseHooks: {
      session: {
        create: {
          after: async (session) => {
            await touchUserSignIn(session.userId);
          },
        },
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path !== signInEmailPath) return;
        const email = normalizeEmail(String((ctx.body as { email?: unknown } | undefined)?.email ?? ""));
        const headers = ctx.request?.headers ?? ctx.headers ?? new Headers();
        const byEmail = signInLimits.perEmail.take(email);
        const byAddress = signInLimits.perAddress.take(clientAddress(headers));
        if (!byEmail.allowed || !byAddress.allowed) throw tooManyAttempts(Math.max(byEmail.retryAfterSeconds, byAddress.retryAfterSeconds));
      }),
      after: createAuthMiddleware(async (ctx) => {
        // A successful sign-in clears that email's failures.
        if (ctx.path === signInEmailPath && ctx.context.newSession) signInLimits.perEmail.reset(normalizeEmail(ctx.context.newSession.user.email));
      }),
    },
    plugins: [
      oneTimeLink(),
      ...(githubOAuthConfigured() ? [genericOAuth({ config: [githubProvider()] })] : []),
      // Last: lets server actions set better-auth's cookies through next/headers.
      nextCookies(),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;

// One instance per process (and across Next.js dev reloads), created on first use so
// importing this module reads no key and opens no database.
const cache = globalThis as unknown as { poolguardAuth?: Auth };

export function auth(): Auth {
  cache.poolguardAuth ??= createAuth();
  return cache.poolguardAuth;
}
