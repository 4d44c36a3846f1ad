#!/usr/bin/env node
// The production web server `npm start` runs: Next.js's request handler behind a plain
// Node HTTP server bound to HOST:PORT, so that every request gets a request id before the
// app sees it (X-Request-Id kept when the client or a proxy sent a plain token, else
// generated, always echoed in the response), runs inside a logging context that puts that
// id on every log line written while it is served, and ends with one access log line
// (method, path without the query string, status, duration).
//
//   HOST  address to listen on (default 127.0.0.1: put a reverse proxy in front)
//   PORT  port (default 3000)
import { createServer } from "node:http";
import { join } from "node:path";
import { register } from "tsx/esm/api";

register();
process.env.NODE_ENV = "production";
const root = join(import.meta.dirname, "..");
const { childLogger, requestIdFrom, withRequestContext } = await import("../lib/log.ts");
const { default: next } = await import("next");

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);
const log = childLogger({ component: "web" });
const app = next({ dev: false, dir: root, hostname: host, port });
const handle = app.getRequestHandler();
await app.prepare();

const quiet = (path) => path.startsWith("/_next/static/") || path === "/favicon.ico";

const server = createServer((req, res) => {
  const incoming = req.headers["x-request-id"];
  const requestId = requestIdFrom(Array.isArray(incoming) ? incoming[0] : incoming);
  req.headers["x-request-id"] = requestId;
  res.setHeader("x-request-id", requestId);
  const started = performance.now();
  const path = (req.url ?? "/").split("?")[0];
  withRequestContext({ requestId }, () => {
    res.on("finish", () => {
      if (quiet(path) && res.statusCode < 400) return;
      log.info({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, "request");
    });
    handle(req, res).catch((error) => {
      log.error({ err: error, path }, "request failed");
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => {
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info({ host, port, url: base }, "web server listening");
  // Load the routes that must answer fast (GitHub gives a webhook 10 s, and a slow first
  // answer shows as a failed delivery) and open the database connection now, not on the
  // first real request. A GET of the webhook route loads its module and answers 405.
  for (const path of ["/api/health?scope=web", "/api/github/webhooks"]) {
    fetch(`${base}${path}`, { headers: { "x-request-id": "warm-up" } }).catch(() => {});
  }
});

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "web server stopping");
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
