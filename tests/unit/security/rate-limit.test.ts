import { describe, expect, it } from "vitest";
import { clientAddress, rateLimit } from "../../../lib/security/rate-limit.ts";

describe("rate limits", () => {
  it("allows up to the limit per window, then refuses with the seconds until the window ends", () => {
    const limit = rateLimit({ limit: 3, windowMs: 60_000 });
    const t0 = 1_000_000;
    expect([1, 2, 3].map((i) => limit.take("a", t0 + i).allowed)).toEqual([true, true, true]);
    const refused = limit.take("a", t0 + 10_000);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(51);
    // Other keys are counted apart; a new window starts afresh.
    expect(limit.take("b", t0 + 10_000).allowed).toBe(true);
    expect(limit.take("a", t0 + 61_000).allowed).toBe(true);
  });

  it("reset clears a key (a successful sign-in forgets earlier failures)", () => {
    const limit = rateLimit({ limit: 1, windowMs: 60_000 });
    limit.take("x", 0);
    expect(limit.take("x", 1).allowed).toBe(false);
    limit.reset("x");
    expect(limit.take("x", 2).allowed).toBe(true);
  });

  it("keeps memory bounded under a flood of distinct keys", () => {
    const limit = rateLimit({ limit: 5, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limit.take(`k${i}`, i);
    // The newest key is still counted correctly after evictions.
    expect(limit.take("k9999", 10_001).remaining).toBe(3);
  });

  it("takes the client address from the first X-Forwarded-For hop", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.1" }))).toBe("203.0.113.7");
    expect(clientAddress(new Headers())).toBe("local");
  });
});
