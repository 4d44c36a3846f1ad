import { describe, expect, it } from "vitest";
import { requestIdFrom, scrub, scrubText } from "../../../lib/log.ts";
import { limitFromEnv, rateLimit } from "../../../lib/security/rate-limit.ts";

// The pieces under the logs and the limits, on their own: what the scrubber replaces (and
// what it leaves alone), request ids, and the limits' configuration.

describe("log scrubbing", () => {
  it("replaces secret-named keys at any depth, and leaves ordinary fields alone", () => {
    const out = scrub({ msg: "x", password: "hunter2", nested: { apiToken: "abc", list: [{ clientSecret: "s" }] }, count: 3, tokenCount: 2, scanId: "s1" });
    expect(out).toEqual({ msg: "x", password: "[redacted]", nested: { apiToken: "[redacted]", list: [{ clientSecret: "[redacted]" }] }, count: 3, tokenCount: 2, scanId: "s1" });
  });

  it("replaces secrets inside free text", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----";
    const text = `connect postgresql://poolguard:S3cr3t@db:5432/pg failed; key ${pem}; token pgt_abcdefghijklmnop and ghs_1234567890abcdef; Authorization: Bearer eyJhbGciOi.xyz; sig sha256=${"a".repeat(64)}`;
    const scrubbed = scrubText(text);
    for (const secret of ["S3cr3t", "MIIEow", "pgt_abcdefghijklmnop", "ghs_1234567890abcdef", "eyJhbGciOi", "a".repeat(64)]) expect(scrubbed).not.toContain(secret);
    expect(scrubbed).toContain("postgresql://poolguard:[redacted]@db:5432/pg");
    expect(scrubText("scan of acme/shop finished in 3 s")).toBe("scan of acme/shop finished in 3 s");
  });

  it("keeps plain request ids and replaces anything else", () => {
    expect(requestIdFrom("req-1.a:b_C")).toBe("req-1.a:b_C");
    for (const bad of ["", "with space", "x".repeat(129), "a\nb", null, undefined]) expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("rate limit configuration", () => {
  it("reads per-minute limits, 0 turns a limit off, and rejects nonsense", () => {
    expect(limitFromEnv("X", 5, {})).toBe(5);
    expect(limitFromEnv("X", 5, { X: "12" })).toBe(12);
    expect(limitFromEnv("X", 5, { X: "0" })).toBe(Number.POSITIVE_INFINITY);
    expect(() => limitFromEnv("X", 5, { X: "ten" })).toThrow(/X must be a whole number/);
  });

  it("counts per key in fixed windows and says when to retry", () => {
    const limit = rateLimit({ limit: 2, windowMs: 60_000 });
    expect(limit.take("a", 0).allowed).toBe(true);
    expect(limit.take("a", 1000).allowed).toBe(true);
    expect(limit.take("a", 2000)).toEqual({ allowed: false, retryAfterSeconds: 58, remaining: 0 });
    expect(limit.take("b", 2000).allowed).toBe(true);
    expect(limit.take("a", 60_000).allowed).toBe(true);
  });
});
