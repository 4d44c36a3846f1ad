import { defineConfig } from "vitest/config";

// Two suites: `unit` needs nothing but Node; `integration` needs DATABASE_URL (and
// REDIS_URL later) pointing at services that scripts/test.mjs starts on 127.0.0.1.
export default defineConfig({
  resolve: { alias: { "@": new URL("./", import.meta.url).pathname } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
