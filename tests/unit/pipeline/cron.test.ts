import { describe, expect, it } from "vitest";
import { CronError, defaultCron, describeCron, nextRuns, slotAtOrBefore, validateCron } from "../../../lib/jobs/cron.ts";
import { backoffMs, leaseTiming, retryPolicy, transportKind } from "../../../lib/jobs/policy.ts";

describe("schedules", () => {
  it("default to daily at a time derived from the repository, spread over the day", () => {
    expect(defaultCron("repo-1")).toBe(defaultCron("repo-1"));
    const minutes = new Set(Array.from({ length: 200 }, (_, i) => defaultCron(`repository-${i}`)));
    expect(minutes.size).toBeGreaterThan(150);
    for (const cron of minutes) expect(cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
  });
  it("are validated: five fields, at most every five minutes", () => {
    expect(validateCron("  30   2 * * 1 ")).toBe("30 2 * * 1");
    expect(validateCron("*/5 * * * *")).toBe("*/5 * * * *");
    for (const bad of ["* * * * *", "*/2 * * * *", "61 * * * *", "0 0 * *", "* * * * * *", "hello"]) expect(() => validateCron(bad), bad).toThrow(CronError);
  });
  it("describe their next runs in words", () => {
    expect(describeCron("30 2 * * 1")).toBe("At 02:30, only on Monday (UTC)");
    const runs = nextRuns("0 4 * * *", 2, new Date("2030-01-01T05:00:00Z"));
    expect(runs.map((d) => d.toISOString())).toEqual(["2030-01-02T04:00:00.000Z", "2030-01-03T04:00:00.000Z"]);
    expect(slotAtOrBefore("0 4 * * *", new Date("2030-01-02T04:00:00Z")).toISOString()).toBe("2030-01-02T04:00:00.000Z");
  });
});

describe("job policy", () => {
  it("backs off exponentially and picks the transport from REDIS_URL", () => {
    expect([1, 2, 3].map(backoffMs)).toEqual([retryPolicy.backoffMs, retryPolicy.backoffMs * 2, retryPolicy.backoffMs * 4]);
    expect(transportKind({})).toBe("database");
    expect(transportKind({ REDIS_URL: "redis://127.0.0.1:6379" })).toBe("bullmq");
    expect(leaseTiming({ POOLGUARD_LEASE_SECONDS: "3" })).toEqual({ leaseMs: 3000, heartbeatMs: 1000 });
    expect(leaseTiming({}).leaseMs).toBe(30_000);
  });
});
