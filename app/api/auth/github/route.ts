import { authorizeUrl, githubOAuthConfigured, githubStateCookieName, githubStateLifetimeSeconds, newOAuthState } from "../../../../lib/auth/github-oauth.ts";
import { callbackUrl, seeOther } from "./_lib.ts";

export const dynamic = "force-dynamic";

// Start "Sign in with GitHub": a fresh state in a short-lived cookie, then GitHub's
// authorize page. The callback accepts only a state equal to the cookie's.
export function GET(request: Request) {
  if (!githubOAuthConfigured()) return seeOther("/sign-in");
  const state = newOAuthState();
  const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  const cookie = `${githubStateCookieName}=${state}; Path=/api/auth/github; HttpOnly; SameSite=Lax; Max-Age=${githubStateLifetimeSeconds}${secure ? "; Secure" : ""}`;
  return new Response(null, { status: 303, headers: { Location: authorizeUrl({ redirectUri: callbackUrl(request), state }), "set-cookie": cookie } });
}
