import { syncInstallation, syncInstallationRepositories } from "../../db/github-bot.ts";
import type { BotContext } from "../context.ts";
import { installationInput, repositoriesOf } from "./installation.ts";
import type { HandlerResult, Payload } from "./types.ts";

// installation_repositories: added / removed repositories of an installation.

export async function handle(payload: Payload, _ctx: BotContext): Promise<HandlerResult> {
  const input = installationInput(payload);
  await syncInstallation(input);
  const added = repositoriesOf(payload.repositories_added);
  const removed = repositoriesOf(payload.repositories_removed).map((r) => r.githubId);
  await syncInstallationRepositories(input.githubId, added, removed);
  return { kind: "repositories-synced", added: added.length, removed: removed.length };
}
