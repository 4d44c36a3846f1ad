import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmptyDatabase } from "../db/fresh-database.ts";
import { waitUntil } from "../pipeline/helpers.ts";
import { type RunningApp, startApp } from "./app.ts";
import { sendWebhooks } from "./webhook-load.ts";

// The web server SIGKILLed in the middle of a stream of signed webhook deliveries, at a
// moment when requests are waiting for their answer, and started again at once (the app
// as users run it, the worker its own process). Every attempt that got no 2xx is sent
// again with the same X-GitHub-Delivery, as a redelivery from GitHub's settings does.
// Every delivery ends accepted, recorded once and processed once: none lost with the
// killed process, none recorded or processed twice because it was sent again.

let app: RunningApp;
let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
let client: typeof import("../../../lib/db/client.ts");
const secret = randomBytes(32).toString("hex");

beforeAll(async () => {
  database = await createEmptyDatabase();
  process.env.DATABASE_URL = database.url;
  app = await startApp(
    {
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      REDIS_URL: undefined,
      GITHUB_WEBHOOK_SECRET: secret,
      POOLGUARD_ADMIN_PASSWORD: randomBytes(12).toString("hex"),
      GITHUB_API_URL: "http://127.0.0.1:9/api/v3",
      POOLGUARD_ANALYZER_JOBS: "1",
    },
    { separateWorker: true },
  );
  client = await import("../../../lib/db/client.ts");
}, 600_000);

afterAll(async () => {
  await app?.stop();
  await client?.disconnectDatabase();
  await database?.drop();
});

describe(`the web server SIGKILLed under webhook load (${process.env.POOLGUARD_TEST_PROVIDER ?? "sqlite"})`, () => {
  it("loses no delivery and records and processes each once, with the refused ones sent again", async () => {
    const faults = app.faults;
    if (!faults) throw new Error("the app was started without separate processes");
    let awaitingAtKill = -1;
    const count = 200;
    const report = await sendWebhooks({
      url: `${app.baseUrl}/api/github/webhooks`,
      secret,
      count,
      durationMs: 12_000,
      resendFailed: true,
      resendAfterMs: 500,
      resendForMs: 120_000,
      events: [
        {
          atIndex: 80,
          run: async (load) => {
            const deadline = Date.now() + 5000;
            while (load.awaiting() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
            awaitingAtKill = load.awaiting();
            await faults.killWeb();
            await faults.restartWeb();
          },
        },
      ],
    });
    const failed = report.results.filter((r) => r.status < 200 || r.status >= 300);
    // Recorded by the killed server before it could answer: never answered 202, a re-send answered "duplicate".
    const answered202 = new Set(report.results.filter((r) => r.status === 202).map((r) => r.deliveryId));
    const recordedUnanswered = [...new Set(report.results.map((r) => r.deliveryId))].filter((id) => !answered202.has(id));
    console.log(`web kill: ${awaitingAtKill} requests unanswered at the kill, ${failed.length} attempts refused, ${report.results.filter((r) => r.retry).length} re-sends, ${recordedUnanswered.length} deliveries recorded without an answer`);
    for (const id of recordedUnanswered) expect(report.results.some((r) => r.deliveryId === id && r.status === 200 && JSON.parse(r.body).duplicate === true)).toBe(true);
    // The kill landed: requests were cut off and had to be sent again.
    expect(awaitingAtKill).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeGreaterThan(0);
    const ids = [...new Set(report.results.map((r) => r.deliveryId))];
    expect(ids).toHaveLength(count);
    // Each delivery ends accepted: 202 once, or (recorded by the killed server, its answer lost) 200 "duplicate" to a re-send.
    const accepted = ids.filter((id) => report.results.some((r) => r.deliveryId === id && r.status >= 200 && r.status < 300));
    expect(accepted).toHaveLength(count);
    expect(ids.filter((id) => report.results.filter((r) => r.deliveryId === id && r.status === 202).length > 1)).toEqual([]);
    expect(report.results.filter((r) => r.status === 200 && !recordedUnanswered.includes(r.deliveryId))).toEqual([]);

    const rows = async () => client.db().webhookDelivery.findMany({ where: { deliveryId: { in: ids } }, select: { deliveryId: true, status: true, attempts: true } });
    await waitUntil("every delivery to be processed", async () => (await rows()).filter((r) => r.status === "processed").length === count, 120_000, 250);
    const stored = await rows();
    expect(stored).toHaveLength(count);
    expect(stored.filter((r) => r.attempts !== 1)).toEqual([]);
    const processedLines = () => {
      const seen = new Map<string, number>();
      for (const line of app.lines()) if (line.msg === "webhook processed" && typeof line.deliveryId === "string") seen.set(line.deliveryId, (seen.get(line.deliveryId) ?? 0) + 1);
      return seen;
    };
    await waitUntil("a processed line for every delivery", async () => ids.every((id) => processedLines().has(id)), 15_000, 250);
    const seen = processedLines();
    expect(ids.filter((id) => seen.get(id) !== 1)).toEqual([]);
  }, 300_000);
});
