import { githubErrorCode, githubOAuthConfigured, githubProviderId } from "../../../../../lib/auth/github-oauth.ts";
import { forwardToAuth, seeOther } from "../../../../../lib/auth/handler.ts";

export const dynamic = "force-dynamic";

// GitHub sends the browser back here (the callback URL registered with the GitHub App)
// with ?code&state. better-auth checks the state against this browser's cookie, trades
// the code for a token and signs the person in when lib/auth/github-oauth.ts finds their
// Poolguard user; its error redirects become our sign-in page's messages.
export async function GET(request: Request) {
  if (!githubOAuthConfigured()) return seeOther("/sign-in");
  const answer = await forwardToAuth(request, `/callback/${githubProviderId}`);
  const location = answer.headers.get("location");
  if (!location) {
    console.error(`GitHub sign-in failed: better-auth answered ${answer.status}`);
    return seeOther("/sign-in?error=github");
  }
  const target = new URL(location, "http://placeholder");
  const error = target.searchParams.get("error");
  if (error) {
    if (error !== "access_denied") console.error(`GitHub sign-in failed: ${error}`);
    return seeOther(`/sign-in?error=${githubErrorCode(error)}`, answer);
  }
  // Signed in (to /repositories) or not invited (to /sign-in/github?login=...).
  return seeOther(`${target.pathname}${target.search}`, answer);
}
