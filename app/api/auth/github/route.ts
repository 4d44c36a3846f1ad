import { githubOAuthConfigured, githubProviderId } from "../../../../lib/auth/github-oauth.ts";
import { forwardToAuth, seeOther } from "../../../../lib/auth/handler.ts";

export const dynamic = "force-dynamic";

// Start "Sign in with GitHub" from a plain link: better-auth records the OAuth state
// (a signed cookie and a Verification row) and answers with GitHub's authorize URL; the
// browser goes there. The callback accepts only the state this browser got.
export async function GET(request: Request) {
  if (!githubOAuthConfigured()) return seeOther("/sign-in");
  const started = await forwardToAuth(request, "/sign-in/social", {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(request.url).origin },
    body: JSON.stringify({ provider: githubProviderId, callbackURL: "/repositories", errorCallbackURL: "/sign-in", disableRedirect: true }),
  });
  const answer = (await started.json().catch(() => null)) as { url?: string } | null;
  if (!started.ok || !answer?.url) {
    console.error(`GitHub sign-in could not start: better-auth answered ${started.status}`);
    return seeOther("/sign-in?error=github");
  }
  return seeOther(answer.url, started);
}
