import { auth } from "./auth.ts";
import { publicBase } from "./github-oauth.ts";

// Every request better-auth handles goes through here. Next.js may report request.url
// as localhost while the browser used 127.0.0.1 (or a proxy's host): cookies belong to
// the host the browser used, so the URL better-auth sees is rebuilt from the Host (or
// X-Forwarded-Host) header unless POOLGUARD_BASE_URL says where Poolguard is served.

export function publicOrigin(request: Request): string {
  const configured = process.env.POOLGUARD_BASE_URL?.trim();
  if (configured) return new URL(configured).origin;
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  const proto = request.headers.get("x-forwarded-proto") ?? new URL(request.url).protocol.replace(/:$/, "");
  return host ? `${proto}://${host}` : new URL(request.url).origin;
}

/**
 * Hand a request to better-auth, optionally at another path under /api/auth (the
 * GitHub callback and one-time links keep their public paths). The query string is kept.
 */
export async function forwardToAuth(request: Request, authPath?: string, init?: { method?: string; body?: BodyInit; headers?: Record<string, string> }): Promise<Response> {
  const origin = publicOrigin(request);
  const original = new URL(request.url);
  const url = new URL(authPath ? `/api/auth${authPath}${original.search}` : `${original.pathname}${original.search}`, origin);
  const headers = new Headers(request.headers);
  for (const [name, value] of Object.entries(init?.headers ?? {})) headers.set(name, value);
  // A request with no cookie and none of a browser's origin headers (Origin, Referer,
  // Sec-Fetch-Site) is a script, not another site's page: browsers send Origin and
  // Sec-Fetch-Site on every cross-site POST. Node's fetch sends Sec-Fetch-Mode alone, which
  // better-auth's origin check would take for a browser that hid its origin, and refuse.
  if (!headers.has("cookie") && !headers.has("origin") && !headers.has("referer") && !headers.has("sec-fetch-site")) {
    headers.delete("sec-fetch-mode");
    headers.delete("sec-fetch-dest");
  }
  const method = init?.method ?? request.method;
  const body = init?.body ?? (method === "GET" || method === "HEAD" ? undefined : await request.arrayBuffer());
  const forwarded = new Request(url, { method, headers, body, redirect: "manual" });
  return publicBase.run(origin, () => auth().handler(forwarded));
}

/** A relative 303 keeps the browser on the host it used; Set-Cookie headers are carried over. */
export function seeOther(location: string, from?: Response): Response {
  const headers = new Headers({ Location: location });
  for (const cookie of from?.headers.getSetCookie() ?? []) headers.append("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}
