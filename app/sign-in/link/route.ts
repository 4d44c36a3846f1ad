import { startSession } from "../../../lib/auth/session.ts";
import { hashToken } from "../../../lib/auth/tokens.ts";
import { consumeSignInToken } from "../../../lib/db/index.ts";

export const dynamic = "force-dynamic";

// One-time sign-in links: the token is consumed atomically, so a link works once.
export async function GET(request: Request) {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  const userId = token ? await consumeSignInToken(hashToken(token)) : null;
  if (!userId) return seeOther("/sign-in?error=link");
  await startSession(userId);
  return seeOther("/repositories");
}

// A relative Location keeps the browser on the host it used (127.0.0.1 vs localhost),
// which is the host the session cookie was set for.
function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { Location: location } });
}
