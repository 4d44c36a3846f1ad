import { cookies } from "next/headers";
import { exchangeCode, fetchIdentity, githubOAuthConfigured, githubStateCookieName, statesMatch, userForIdentity } from "../../../../../lib/auth/github-oauth.ts";
import { startSession } from "../../../../../lib/auth/session.ts";
import { callbackUrl, seeOther } from "../_lib.ts";

export const dynamic = "force-dynamic";

// GitHub sends the browser back here with ?code&state. The state must equal the cookie
// set when sign-in started (no cross-site sign-in); the code is traded for a token that
// says who the person is. Only people who already have a Poolguard user get in.
export async function GET(request: Request) {
  if (!githubOAuthConfigured()) return seeOther("/sign-in");
  const url = new URL(request.url);
  const jar = await cookies();
  const expected = jar.get(githubStateCookieName)?.value;
  jar.delete({ name: githubStateCookieName, path: "/api/auth/github" });
  if (url.searchParams.get("error")) return seeOther("/sign-in?error=github-denied");
  if (!statesMatch(expected, url.searchParams.get("state"))) return seeOther("/sign-in?error=github-state");
  const code = url.searchParams.get("code");
  if (!code) return seeOther("/sign-in?error=github");
  let identity: Awaited<ReturnType<typeof fetchIdentity>>;
  try {
    identity = await fetchIdentity(await exchangeCode({ code, redirectUri: callbackUrl(request) }));
  } catch (error) {
    console.error(`GitHub sign-in failed: ${(error as Error).message}`);
    return seeOther("/sign-in?error=github");
  }
  const user = await userForIdentity(identity);
  if (!user) return seeOther(`/sign-in/github?login=${encodeURIComponent(identity.login)}`);
  await startSession(user.id);
  return seeOther("/repositories");
}
