// Shared by the GitHub sign-in routes: where GitHub sends people back to.
export function callbackUrl(request: Request): string {
  const configured = process.env.POOLGUARD_BASE_URL?.trim();
  // The host the browser used (Next may report request.url as localhost): the state
  // cookie was set for it, so GitHub must send the browser back to the same one.
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  const proto = request.headers.get("x-forwarded-proto") ?? new URL(request.url).protocol.replace(/:$/, "");
  const base = configured ? configured.replace(/\/+$/, "") : host ? `${proto}://${host}` : new URL(request.url).origin;
  return `${base}/api/auth/github/callback`;
}

/** A relative Location keeps the browser on the host it used, which the cookies were set for. */
export function seeOther(location: string, cookies: string[] = []): Response {
  const headers = new Headers({ Location: location });
  for (const cookie of cookies) headers.append("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}
