import { removeInstallation, setInstallationSuspended, syncInstallation, syncInstallationRepositories } from "../../db/github-bot.ts";
import type { BotContext } from "../context.ts";
import type { HandlerResult, Payload } from "./types.ts";

// installation: created / new_permissions_accepted (sync the installation, its
// organization and repositories), deleted, suspend, unsuspend.

type RepoRef = { id: number; full_name: string; private: boolean };

export function installationInput(payload: Payload) {
  const inst = payload.installation as { id: number; account: { login?: string; name?: string; type?: string } | null; permissions?: Record<string, string>; suspended_at?: string | null };
  return {
    githubId: inst.id,
    accountLogin: inst.account?.login ?? inst.account?.name ?? `installation-${inst.id}`,
    accountType: inst.account?.type ?? "Organization",
    permissions: inst.permissions,
    suspended: Boolean(inst.suspended_at),
  };
}

export function repositoriesOf(list: RepoRef[] | undefined) {
  return (list ?? []).map((r) => ({ githubId: r.id, fullName: r.full_name, private: r.private }));
}

export async function handle(payload: Payload, _ctx: BotContext): Promise<HandlerResult> {
  const input = installationInput(payload);
  switch (payload.action) {
    case "created":
    case "new_permissions_accepted": {
      const { organization } = await syncInstallation(input);
      const repositories = repositoriesOf(payload.repositories as RepoRef[] | undefined);
      await syncInstallationRepositories(input.githubId, repositories);
      return { kind: "installation-synced", organization: organization.slug, repositories: repositories.length };
    }
    case "deleted":
      await removeInstallation(input.githubId);
      return { kind: "installation-removed" };
    case "suspend":
    case "unsuspend":
      await setInstallationSuspended(input.githubId, payload.action === "suspend");
      return { kind: `installation-${payload.action}` };
    default:
      return { kind: "ignored", reason: `action ${payload.action}` };
  }
}
