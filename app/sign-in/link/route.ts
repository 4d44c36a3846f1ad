import { forwardToAuth } from "../../../lib/auth/handler.ts";
import { oneTimeLinkPath } from "../../../lib/auth/one-time-link.ts";

export const dynamic = "force-dynamic";

// One-time sign-in links keep this public form (/sign-in/link?token=...); better-auth's
// endpoint (lib/auth/one-time-link.ts) consumes the token and starts the session.
export function GET(request: Request) {
  return forwardToAuth(request, oneTimeLinkPath);
}
