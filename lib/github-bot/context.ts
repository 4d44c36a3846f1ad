import { type GitHubClient, githubClientFromEnv } from "../github/index.ts";
import { jsonLogger } from "../jobs/context.ts";
import type { Log } from "./review.ts";

// What the bot's handlers need, from the environment by default; tests and the
// benchmark configure their own (a client pointed at the fake GitHub, short pauses).

export type BotEnv = Record<string, string | undefined>;

export type BotContext = {
  /** A client acting as one installation (App auth). */
  clientFor(installationId: number): GitHubClient;
  baseUrl?: string;
  log: Log;
  env: BotEnv;
  /** Analysis processes per scan. */
  jobs?: number;
};

function jsonLog(): Log {
  // The process's pino logger: secrets scrubbed, and the request id of the delivery that queued the work.
  return jsonLogger({ component: "github-bot" });
}

let configured: Partial<BotContext> | null = null;
let appClient: GitHubClient | null = null;

/** Override parts of the context (tests, the benchmark). Pass null to go back to the environment. */
export function configureBot(overrides: Partial<BotContext> | null): void {
  configured = overrides;
  appClient = null;
}

export function botContext(env: BotEnv = process.env): BotContext {
  return {
    clientFor:
      configured?.clientFor ??
      ((installationId) => {
        appClient ??= githubClientFromEnv(env);
        return appClient.forInstallation(installationId);
      }),
    baseUrl: configured?.baseUrl ?? env.POOLGUARD_BASE_URL,
    log: configured?.log ?? jsonLog(),
    env: configured?.env ?? env,
    jobs: configured?.jobs,
  };
}

export function webhookSecret(env: BotEnv = process.env): string | undefined {
  return configured?.env?.GITHUB_WEBHOOK_SECRET ?? env.GITHUB_WEBHOOK_SECRET;
}
