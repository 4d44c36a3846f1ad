import { defineConfig } from "@playwright/test";

// Browser tests drive Debian's Chromium (never a downloaded browser). scripts/test.mjs
// starts the app and passes BASE_URL and the admin's credentials; without BASE_URL,
// Playwright starts the app itself on a throwaway SQLite database.
const port = Number(process.env.PLAYWRIGHT_PORT || 3100);
const baseURL = process.env.BASE_URL || `http://127.0.0.1:${port}`;
process.env.POOLGUARD_ADMIN_EMAIL ||= "admin@poolguard.test";
process.env.POOLGUARD_ADMIN_PASSWORD ||= `pw-${Date.now()}-${Math.random().toString(36).slice(2)}`;

export default defineConfig({
  testDir: "tests/browser",
  outputDir: "test-results/browser",
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  use: {
    baseURL,
    screenshot: "on",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: process.env.BASE_URL
    ? undefined
    : {
        command: "node scripts/start.mjs",
        url: `${baseURL}/api/health`,
        timeout: 300_000,
        reuseExistingServer: false,
        env: {
          PORT: String(port),
          DATABASE_URL: `file:/tmp/poolguard-playwright-${process.pid}.db`,
          POOLGUARD_ADMIN_EMAIL: process.env.POOLGUARD_ADMIN_EMAIL,
          POOLGUARD_ADMIN_PASSWORD: process.env.POOLGUARD_ADMIN_PASSWORD,
        },
      },
});
