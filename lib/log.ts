import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import pino from "pino";

// Structured logs: one JSON object per line on stdout (pino), for the web app and the
// workers alike. Every line written while a request is being served carries its
// request id (the server runs each request inside `withRequestContext`; the store lives
// on globalThis so the server script and the bundled app code share it). Values that
// look like secrets are replaced before a line is written, whatever the caller passed:
// keys named like passwords/tokens/secrets/keys, credentials in URLs, API tokens, PEM
// private keys and bearer headers.

export type RequestContext = { requestId: string };

const storeKey = Symbol.for("poolguard.request-context");
type GlobalWithStore = typeof globalThis & { [storeKey]?: AsyncLocalStorage<RequestContext> };

function contextStore(): AsyncLocalStorage<RequestContext> {
  const scope = globalThis as GlobalWithStore;
  scope[storeKey] ??= new AsyncLocalStorage<RequestContext>();
  return scope[storeKey];
}

export function withRequestContext<T>(context: RequestContext, run: () => T): T {
  return contextStore().run(context, run);
}

export function currentRequestId(): string | undefined {
  return contextStore().getStore()?.requestId;
}

/**
 * Run `run` with the request id of the request that caused the work (stored with a
 * webhook delivery or a scan), so the job runner's lines for it carry the same id as the
 * web server's; without one, as is.
 */
export function withStoredRequestId<T>(requestId: string | null | undefined, run: () => T): T {
  return requestId ? withRequestContext({ requestId }, run) : run();
}

/** An incoming X-Request-Id is kept when it is a plain token (so ids can be followed through proxies), else a new one is made. */
export function requestIdFrom(incoming: string | null | undefined): string {
  if (incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming)) return incoming;
  return randomUUID();
}

const secretKey = /pass(word)?|secret|token|authorization|cookie|private.?key|api.?key|credential|signature/i;
const redacted = "[redacted]";

/** Replace secrets inside free text: URL credentials, API tokens, bearer values, PEM blocks. */
export function scrubText(text: string): string {
  return text
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[redacted private key]")
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/\s]*@/gi, `$1:${redacted}@`)
    .replace(/\b(pgt|ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{8,}/g, `$1_${redacted}`)
    .replace(/\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${redacted}`)
    .replace(/sha256=[0-9a-f]{64}/gi, `sha256=${redacted}`);
}

/** A copy of `value` with secret-named keys and secret-looking strings replaced. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 6) return "[too deep]";
  if (value instanceof Error) return { type: value.name, message: scrubText(value.message), stack: value.stack ? scrubText(value.stack) : undefined };
  if (Array.isArray(value)) return value.slice(0, 100).map((item) => scrub(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretKey.test(key) && item !== null && item !== undefined && typeof item !== "boolean" && typeof item !== "number" ? redacted : scrub(item, depth + 1);
  }
  return out;
}

function createRootLogger() {
  return pino({
    level: process.env.POOLGUARD_LOG_LEVEL || "info",
    base: { pid: process.pid },
    // Keys in the order people read them; every line of a request says which one.
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    formatters: { log: (object) => scrub(object) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        // Messages are free text: scrub them too (the object argument goes through formatters.log).
        const scrubbed = args.map((arg) => (typeof arg === "string" ? scrubText(arg) : arg)) as Parameters<typeof method>;
        return method.apply(this, scrubbed);
      },
    },
  });
}

const loggerKey = Symbol.for("poolguard.logger");
type GlobalWithLogger = typeof globalThis & { [loggerKey]?: pino.Logger };

/** The process's logger (one per process, shared by the server script and the app bundle). */
export function logger(): pino.Logger {
  const scope = globalThis as GlobalWithLogger;
  scope[loggerKey] ??= createRootLogger();
  return scope[loggerKey];
}

/** A logger whose lines carry `bindings` (component, runner, ...). */
export function childLogger(bindings: Record<string, unknown>): pino.Logger {
  return logger().child(scrub(bindings) as Record<string, unknown>);
}
