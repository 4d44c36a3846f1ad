// Fixed-window rate limits kept in this process's memory: sign-in attempts per email and
// per client address, API calls per token, webhook deliveries per sender. Each web process
// counts on its own (several instances behind a load balancer multiply the limits by their
// number); that bounds brute force and floods without a shared store.

type Window = { started: number; count: number };

export type RateLimit = {
  /** Events allowed per window (Infinity: no limit). */
  readonly limit: number;
  /** Count one event for `key`; false when the key is over its limit in the current window. */
  take(key: string, now?: number): { allowed: boolean; retryAfterSeconds: number; remaining: number };
  /** Forget a key (a successful sign-in clears its failures). */
  reset(key: string): void;
};

export function rateLimit(options: { limit: number; windowMs: number; maxKeys?: number }): RateLimit {
  const windows = new Map<string, Window>();
  const maxKeys = options.maxKeys ?? 50_000;
  return {
    limit: options.limit,
    take(key, now = Date.now()) {
      let window = windows.get(key);
      if (!window || now - window.started >= options.windowMs) {
        // Bounded memory: drop the oldest windows when a flood brings many keys.
        if (windows.size >= maxKeys) {
          for (const [k, w] of windows) {
            if (now - w.started >= options.windowMs || windows.size >= maxKeys) windows.delete(k);
            if (windows.size < maxKeys * 0.9) break;
          }
        }
        window = { started: now, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      const allowed = window.count <= options.limit;
      return { allowed, retryAfterSeconds: allowed ? 0 : Math.ceil((window.started + options.windowMs - now) / 1000), remaining: Math.max(0, options.limit - window.count) };
    },
    reset(key) {
      windows.delete(key);
    },
  };
}

/** The client address as the nearest trusted proxy reports it (X-Forwarded-For's first hop), else "local". */
export function clientAddress(headers: Headers): string {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip") || "local";
}

/** A per-minute limit from the environment: unset means the default, 0 turns the limit off. */
export function limitFromEnv(name: string, fallback: number, env: Record<string, string | undefined> = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of requests per minute (0 turns the limit off), not "${raw}"`);
  return value === 0 ? Number.POSITIVE_INFINITY : value;
}

// Shared limiters (module state is per process).
export const signInLimits = {
  perEmail: rateLimit({ limit: 10, windowMs: 15 * 60_000 }),
  perAddress: rateLimit({ limit: 100, windowMs: 15 * 60_000 }),
};
/** REST API calls per minute, per API token (requests without a token: per client address). */
export const apiLimit = rateLimit({ limit: limitFromEnv("POOLGUARD_API_RATE_LIMIT", 1200), windowMs: 60_000 });
/** Webhook deliveries per minute: per sending address (before anything else) and per GitHub App installation (after the signature checked out). */
export const webhookLimits = {
  perSource: rateLimit({ limit: limitFromEnv("POOLGUARD_WEBHOOK_RATE_LIMIT", 3000), windowMs: 60_000 }),
  perInstallation: rateLimit({ limit: limitFromEnv("POOLGUARD_WEBHOOK_INSTALLATION_RATE_LIMIT", 1500), windowMs: 60_000 }),
};
