import { createHash } from "node:crypto";
import { type NextRequest, NextResponse } from "next/server";
import { verifySignature } from "./lib/github-bot/signature.ts";
import { childLogger, requestIdFrom } from "./lib/log.ts";
import { apiLimit, clientAddress, type RateLimit, webhookLimits } from "./lib/security/rate-limit.ts";

// Security headers for every page: a Content-Security-Policy with a fresh nonce per
// request (Next.js puts it on its own scripts, so no inline script runs without it), no
// framing, no MIME sniffing, and HSTS when the request reached us over TLS (behind a
// reverse proxy that sets X-Forwarded-Proto). API routes answer JSON and get the static
// headers from next.config.ts. Every request gets an X-Request-Id (kept from the
// client when it is a plain token, else new), echoed in the response.

// Rate limits for the REST API (per token) and the GitHub webhook endpoint (per sending
// address, then per installation once the signature checked out) live here, in one place
// in front of every route handler: an answer over the limit is 429 with Retry-After and
// never reaches the handler (a refused webhook delivery is not recorded, so GitHub's
// redelivery of it is processed normally).

const log = childLogger({ component: "proxy" });

function tooMany(requestId: string, limit: number, retryAfterSeconds: number, what: string): NextResponse {
  return NextResponse.json(
    { error: { code: "rate_limited", message: `too many ${what}; retry after ${retryAfterSeconds} s` } },
    {
      status: 429,
      headers: {
        "retry-after": String(retryAfterSeconds),
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": "0",
        "x-request-id": requestId,
        "cache-control": "no-store",
      },
    },
  );
}

function check(limiter: RateLimit, limit: number, key: string, requestId: string, what: string, data: Record<string, unknown>): NextResponse | null {
  if (!Number.isFinite(limit)) return null;
  const result = limiter.take(key);
  if (result.allowed) return null;
  log.warn({ ...data, requestId, retryAfterSeconds: result.retryAfterSeconds }, `rate limited: ${what}`);
  return tooMany(requestId, limit, result.retryAfterSeconds, what);
}

async function installationOf(request: NextRequest): Promise<number | null> {
  // Only a delivery signed with our secret may spend an installation's budget: anyone can
  // write any installation id into an unsigned body.
  const secret = process.env.GITHUB_WEBHOOK_SECRET;
  if (!secret) return null;
  const raw = new Uint8Array(await request.clone().arrayBuffer());
  if (!verifySignature(secret, raw, request.headers.get("x-hub-signature-256"))) return null;
  try {
    const id = (JSON.parse(Buffer.from(raw).toString("utf8")) as { installation?: { id?: unknown } }).installation?.id;
    return typeof id === "number" ? id : null;
  } catch {
    return null;
  }
}

async function limitApi(request: NextRequest, requestId: string): Promise<NextResponse | null> {
  const { pathname } = request.nextUrl;
  if (pathname.startsWith("/api/v1/")) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    // The token's hash is the key: the same budget on every route, and no token in memory.
    const key = bearer ? `token:${createHash("sha256").update(bearer).digest("hex").slice(0, 32)}` : `address:${clientAddress(request.headers)}`;
    return check(apiLimit, apiLimit.limit, key, requestId, "API requests", { path: pathname, key: key.slice(0, 14) });
  }
  if (pathname === "/api/github/webhooks" && request.method === "POST") {
    const source = clientAddress(request.headers);
    const bySource = check(webhookLimits.perSource, webhookLimits.perSource.limit, source, requestId, "webhook deliveries from this address", { source });
    if (bySource) return bySource;
    if (!Number.isFinite(webhookLimits.perInstallation.limit)) return null;
    const installation = await installationOf(request);
    if (installation === null) return null;
    return check(webhookLimits.perInstallation, webhookLimits.perInstallation.limit, String(installation), requestId, "webhook deliveries for this installation", {
      installation,
    });
  }
  return null;
}

export async function proxy(request: NextRequest) {
  const requestId = requestIdFrom(request.headers.get("x-request-id"));
  if (request.nextUrl.pathname.startsWith("/api/")) {
    const limited = await limitApi(request, requestId);
    if (limited) return limited;
    const headers = new Headers(request.headers);
    headers.set("x-request-id", requestId);
    const response = NextResponse.next({ request: { headers } });
    response.headers.set("x-request-id", requestId);
    return response;
  }
  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const https = request.headers.get("x-forwarded-proto") === "https" || request.nextUrl.protocol === "https:";
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    // Tailwind's output is a stylesheet; shiki and React set style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("x-request-id", requestId);
  requestHeaders.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", csp);
  response.headers.set("x-request-id", requestId);
  if (https) response.headers.set("strict-transport-security", "max-age=63072000; includeSubDomains");
  return response;
}

export const config = {
  matcher: [
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
    "/api/v1/:path*",
    "/api/github/webhooks",
  ],
};
