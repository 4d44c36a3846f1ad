import { AsyncLocalStorage } from "node:async_hooks";
import { Octokit } from "@octokit/rest";
import { APIError } from "better-auth/api";
import type { GenericOAuthConfig } from "better-auth/plugins";
import { findUserByAccount, findUserByAnyEmail, hasAccount } from "../db/accounts.ts";
import type { UserRecord } from "../db/users.ts";
import { apiUrlFromEnv } from "../github/index.ts";

// "Sign in with GitHub" through the GitHub App's OAuth client (GITHUB_CLIENT_ID,
// GITHUB_CLIENT_SECRET), run by better-auth's generic OAuth provider so the GitHub host
// follows GITHUB_API_URL (GitHub Enterprise Server, or a test server). It only signs in
// people who already have a Poolguard user: linked earlier (an Account row, provider
// "github"), or invited with an email address GitHub says they own and have verified.
// It never creates users or memberships.

export type Env = Record<string, string | undefined>;

export const githubProviderId = "github";
/** The callback path registered with the GitHub App (kept from before better-auth). */
export const githubCallbackPath = "/api/auth/github/callback";

export function githubOAuthConfigured(env: Env = process.env): boolean {
  return Boolean(env.GITHUB_CLIENT_ID?.trim() && env.GITHUB_CLIENT_SECRET?.trim());
}

/**
 * GitHub's web host for the API in GITHUB_API_URL: https://api.github.com is served by
 * https://github.com; GitHub Enterprise Server's https://HOST/api/v3 by https://HOST.
 */
export function githubWebUrl(env: Env = process.env): string {
  const api = new URL(apiUrlFromEnv(env));
  if (api.hostname === "api.github.com") return "https://github.com";
  if (api.hostname.startsWith("api.") && api.hostname.endsWith(".ghe.com")) return `${api.protocol}//${api.hostname.slice(4)}`;
  return `${api.protocol}//${api.host}`;
}

export type GitHubIdentity = { id: number; login: string; name: string | null; avatarUrl: string | null; verifiedEmails: string[] };

/** Who the token belongs to, and the email addresses GitHub has verified for them (primary first). */
export async function fetchIdentity(token: string, env: Env = process.env): Promise<GitHubIdentity> {
  const octokit = new Octokit({ auth: token, baseUrl: apiUrlFromEnv(env), userAgent: "poolguard" });
  const { data: user } = await octokit.rest.users.getAuthenticated();
  let verifiedEmails: string[] = [];
  try {
    const { data: emails } = await octokit.rest.users.listEmailsForAuthenticatedUser({ per_page: 100 });
    verifiedEmails = emails
      .filter((e) => e.verified)
      .sort((a, b) => Number(b.primary) - Number(a.primary))
      .map((e) => e.email);
  } catch (error) {
    // Without the App's "Email addresses" permission only linked accounts can sign in.
    const status = (error as { status?: number }).status;
    if (status !== 403 && status !== 404) throw error;
  }
  return { id: user.id, login: user.login, name: user.name ?? null, avatarUrl: user.avatar_url ?? null, verifiedEmails };
}

/**
 * The Poolguard user a GitHub identity may sign in as: the one its account is linked to,
 * else the user invited with one of its verified email addresses, as long as that user
 * has no other GitHub account linked (a second account does not take a user over).
 * Null for a stranger. better-auth links the account on the first sign-in.
 */
export async function userForIdentity(identity: GitHubIdentity): Promise<UserRecord | null> {
  const linked = await findUserByAccount(githubProviderId, String(identity.id));
  if (linked) return linked;
  const invited = await findUserByAnyEmail(identity.verifiedEmails);
  if (!invited) return null;
  return (await hasAccount(invited.id, githubProviderId)) ? null : invited;
}

/** Where someone GitHub signed in but nobody invited is sent (the page names their login). */
export function notInvitedPath(login: string): string {
  return `/sign-in/github?login=${encodeURIComponent(login)}`;
}

// The public address of the request being handled (see lib/auth/handler.ts), so the
// redirect URI sent to GitHub is on the host the browser used.
export const publicBase = new AsyncLocalStorage<string>();

/** The redirect URI for GitHub: POOLGUARD_BASE_URL's, else the current request's host. */
export function githubRedirectUri(env: Env = process.env): string | undefined {
  const base = env.POOLGUARD_BASE_URL?.trim().replace(/\/+$/, "") || publicBase.getStore();
  return base ? `${base}${githubCallbackPath}` : undefined;
}

/** better-auth's generic OAuth configuration for GitHub (github.com or Enterprise Server). */
export function githubProvider(env: Env = process.env): GenericOAuthConfig {
  const web = githubWebUrl(env);
  return {
    providerId: githubProviderId,
    clientId: env.GITHUB_CLIENT_ID?.trim() ?? "",
    clientSecret: env.GITHUB_CLIENT_SECRET?.trim() ?? "",
    authorizationUrl: `${web}/login/oauth/authorize`,
    tokenUrl: `${web}/login/oauth/access_token`,
    // Read on every sign-in: the host differs per request unless POOLGUARD_BASE_URL is set.
    get redirectURI() {
      return githubRedirectUri(env);
    },
    authorizationUrlParams: { allow_signup: "false" },
    // Never create users: only people an admin invited get in.
    disableSignUp: true,
    async getUserInfo(tokens) {
      if (!tokens.accessToken) return null;
      const identity = await fetchIdentity(tokens.accessToken, env);
      const user = await userForIdentity(identity);
      // A stranger is told to ask for an invitation (better-auth follows a thrown redirect).
      if (!user) throw new APIError("FOUND", undefined, { Location: notInvitedPath(identity.login) });
      return { id: String(identity.id), email: user.email, emailVerified: true, name: identity.name ?? identity.login, image: identity.avatarUrl ?? undefined };
    },
  };
}

/** Our sign-in page's error code for better-auth's OAuth error code. */
export function githubErrorCode(code: string | null): "github" | "github-state" | "github-denied" {
  if (code === "access_denied") return "github-denied";
  if (code && (code.includes("state") || code === "please_restart_the_process")) return "github-state";
  return "github";
}
