import { forwardToAuth } from "../../../../lib/auth/handler.ts";

export const dynamic = "force-dynamic";

// better-auth's own routes: POST /api/auth/sign-in/email { "email", "password" } (what
// scripts use; the session cookie comes back in Set-Cookie), /api/auth/get-session,
// /api/auth/sign-out, the GitHub OAuth callback and the rest.
export function GET(request: Request) {
  return forwardToAuth(request);
}

export function POST(request: Request) {
  return forwardToAuth(request);
}
