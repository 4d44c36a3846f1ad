import { randomBytes, timingSafeEqual } from "node:crypto";
import { Octokit } from "@octokit/rest";
import { findUserByAccount, findUserByAnyEmail, linkAccount } from "../db/accounts.ts";
import type { UserRecord } from "../db/users.ts";
import { apiUrlFromEnv } from "../github/index.ts";

// "Sign in with GitHub" through the GitHub App's OAuth client (GITHUB_CLIENT_ID,
// GITHUB_CLIENT_SECRET). It only signs in people who already have a Poolguard user:
// linked earlier (an Account row, provider "github"), or invited with an email address
// GitHub says they own and have verified. It never creates users or memberships.

export type Env = Record<string, string | undefined>;

export const githubStateCookieName = "poolguard_github_state";
export const githubStateLifetimeSeconds = 10 * 60;

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

export function newOAuthState(): string {
  return randomBytes(24).toString("base64url");
}

export function statesMatch(expected: string | undefined, received: string | null): boolean {
  if (!expected || !received) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function authorizeUrl(input: { redirectUri: string; state: string }, env: Env = process.env): string {
  const url = new URL("/login/oauth/authorize", githubWebUrl(env));
  url.searchParams.set("client_id", env.GITHUB_CLIENT_ID ?? "");
  url.searchParams.set("redirect_uri", input.redirectUri);
  url.searchParams.set("state", input.state);
  url.searchParams.set("allow_signup", "false");
  return url.toString();
}

export class GitHubSignInError extends Error {}

/** Trade the code GitHub sent to the callback for a user access token. */
export async function exchangeCode(input: { code: string; redirectUri: string }, env: Env = process.env): Promise<string> {
  const response = await fetch(new URL("/login/oauth/access_token", githubWebUrl(env)), {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify({ client_id: env.GITHUB_CLIENT_ID, client_secret: env.GITHUB_CLIENT_SECRET, code: input.code, redirect_uri: input.redirectUri }),
  });
  if (!response.ok) throw new GitHubSignInError(`GitHub answered ${response.status} to the code exchange`);
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!body.access_token) throw new GitHubSignInError(body.error_description ?? body.error ?? "GitHub sent no access token");
  return body.access_token;
}

export type GitHubIdentity = { id: number; login: string; verifiedEmails: string[] };

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
  return { id: user.id, login: user.login, verifiedEmails };
}

/**
 * The Poolguard user for a GitHub identity: the one its account is linked to, else the
 * user invited with one of its verified email addresses (then linked). Null for a stranger.
 */
export async function userForIdentity(identity: GitHubIdentity): Promise<UserRecord | null> {
  const linked = await findUserByAccount("github", String(identity.id));
  if (linked) return linked;
  const invited = await findUserByAnyEmail(identity.verifiedEmails);
  if (!invited) return null;
  // A user already linked to another GitHub account is not taken over by a second one.
  return (await linkAccount(invited.id, "github", String(identity.id))) ? invited : null;
}
