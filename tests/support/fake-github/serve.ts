// Runs the fake GitHub as its own process for the browser tests (scripts/test.mjs starts
// it before the app, so the app's environment can point at it). One App installation on
// "acme" with one repository, acme/shop, whose Python files leak sessions.
//
// Prints one line of JSON on stdout once listening:
//   { apiUrl, controlUrl, appId, privateKey, clientId, clientSecret }
// The control server (another port) lets tests choose who GitHub's authorize page signs
// in (POST /authorize-as { login, emails? }) and read the pull requests (GET /pulls).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { leakyRepository } from "../../unit/github/setup.ts";
import { startFakeGitHub } from "./index.ts";

const fake = await startFakeGitHub();
fake.createRepository({ owner: "acme", name: "shop", files: leakyRepository });
fake.createInstallation("acme", ["acme/shop"]);

const control = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const reply = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method === "POST" && req.url === "/authorize-as") {
      const { login, emails } = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { login?: string | null; emails?: { email: string; verified?: boolean }[] };
      fake.authorizeAs = login ?? null;
      if (login && emails) fake.setUserEmails(login, emails);
      return reply(200, { login: fake.authorizeAs });
    }
    if (req.method === "GET" && req.url === "/pulls") {
      return reply(200, fake.pulls("acme/shop").map((p) => ({ number: p.number, head: p.head, state: p.state, title: p.title })));
    }
    if (req.method === "GET" && req.url === "/violations") return reply(200, fake.violations);
    reply(404, { error: "unknown control request" });
  });
});
await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));

process.stdout.write(
  `${JSON.stringify({
    apiUrl: fake.apiUrl,
    controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
    appId: String(fake.app.id),
    privateKey: fake.app.privateKey,
    clientId: fake.app.clientId,
    clientSecret: fake.app.clientSecret,
  })}\n`,
);

const stop = async () => {
  control.close();
  try {
    await fake.stop();
  } catch (error) {
    // Responses that broke GitHub's description: say so, and fail.
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
