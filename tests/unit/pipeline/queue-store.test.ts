import { describe, expect, it } from "vitest";
import { queueStore, transportKind } from "../../../lib/jobs/policy.ts";

describe("queue store (REDIS_URL, POOLGUARD_QUEUE)", () => {
  it("uses the database transport when neither is set", () => {
    expect(queueStore({ DATABASE_URL: "file:./data/poolguard.db" })).toBeNull();
    expect(transportKind({ DATABASE_URL: "file:./data/poolguard.db" })).toBe("database");
  });

  it("uses BullMQ on Redis with REDIS_URL", () => {
    expect(queueStore({ REDIS_URL: "redis://127.0.0.1:6379" })).toBe("redis");
    expect(transportKind({ REDIS_URL: "redis://127.0.0.1:6379", POOLGUARD_QUEUE: "redis" })).toBe("bullmq");
  });

  it("uses BullMQ on the app's PostgreSQL database with POOLGUARD_QUEUE=postgres, even when REDIS_URL is set", () => {
    expect(queueStore({ POOLGUARD_QUEUE: "postgres", DATABASE_URL: "postgresql://u:p@db:5432/poolguard" })).toBe("postgres");
    expect(queueStore({ POOLGUARD_QUEUE: "postgres", DATABASE_URL: "postgres://db/poolguard", REDIS_URL: "redis://r" })).toBe("postgres");
    expect(transportKind({ POOLGUARD_QUEUE: "postgres", DATABASE_URL: "postgres://db/poolguard" })).toBe("bullmq");
  });

  it("refuses POOLGUARD_QUEUE=postgres when the database is not PostgreSQL, saying why", () => {
    expect(() => queueStore({ POOLGUARD_QUEUE: "postgres", DATABASE_URL: "file:./data/poolguard.db" })).toThrow(/DATABASE_URL must be a postgresql:\/\/ URL/);
    expect(() => queueStore({ POOLGUARD_QUEUE: "postgres" })).toThrow(/DATABASE_URL must be a postgresql:\/\/ URL/);
  });

  it("refuses an unknown POOLGUARD_QUEUE", () => {
    expect(() => transportKind({ POOLGUARD_QUEUE: "kafka" })).toThrow(/POOLGUARD_QUEUE=kafka: unknown value/);
  });
});
