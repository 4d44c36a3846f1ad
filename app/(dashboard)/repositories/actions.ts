"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { listRules } from "../../../lib/analyzer/rules.ts";
import { ConfigError, parseConfig } from "../../../lib/analyzer/config/load-config.ts";
import type { RuleId } from "../../../lib/analyzer/types.ts";
import { ForbiddenError, requireRole } from "../../../lib/auth/access.ts";
import { getRepositoryInOrganization, recordAuditEvent, updateRepositorySettings } from "../../../lib/db/index.ts";
import { CronError, dispatcher, requestScan, setRepositorySchedule } from "../../../lib/jobs/index.ts";
import { isFixGrouping } from "../../../lib/github/fix-pull-requests.ts";
import { registerRepository } from "../../api/v1/_lib/repositories.ts";
import { fixGroupingLabels } from "../format.ts";
import { ApiError } from "../../api/v1/_lib/http.ts";

// Server actions of the repository screens. Each checks the role first (members scan,
// admins add repositories and change settings) and answers with a notice in the URL.

function done(path: string, notice: string): never {
  revalidatePath(path);
  redirect(`${path}?notice=${encodeURIComponent(notice)}`);
}

async function guarded(path: string, run: () => Promise<string>): Promise<never> {
  let notice: string;
  try {
    notice = await run();
  } catch (error) {
    if (error instanceof ForbiddenError || error instanceof ApiError || error instanceof CronError) notice = error.message;
    else throw error;
  }
  done(path, notice);
}

export async function addRepository(form: FormData): Promise<void> {
  await guarded("/repositories", async () => {
    const { user, organization, role } = await requireRole("admin", "Adding repositories");
    const provider = String(form.get("provider") ?? "");
    const location = String(form.get("location") ?? "").trim();
    if (!location) return "Enter a local path or a git URL.";
    const body = provider === "git" ? { provider: "git" as const, url: location } : { provider: "local" as const, path: location };
    const repository = await registerRepository({ tokenId: "", organizationId: organization.id, organizationSlug: organization.slug, role: role === "owner" ? "admin" : (role as "admin") }, body);
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "repository.created", targetType: "repository", targetId: repository.id, data: { provider, name: repository.name } });
    const queued = await requestScan(await dispatcher(), { repositoryId: repository.id, trigger: "manual", branch: repository.defaultBranch });
    return `Added ${repository.name}; scan ${queued.scan.status}.`;
  });
}

/** Connect a repository of a GitHub App installation (picked on the Repositories page) and scan it. */
export async function connectGitHubRepository(form: FormData): Promise<void> {
  await guarded("/repositories", async () => {
    const { user, organization, role } = await requireRole("admin", "Connecting repositories");
    const fullName = String(form.get("fullName") ?? "").trim();
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(fullName)) return "Pick a repository to connect.";
    const caller = { tokenId: "", organizationId: organization.id, organizationSlug: organization.slug, role: role === "owner" ? "admin" : (role as "admin") } as const;
    const repository = await registerRepository(caller, { provider: "github", fullName });
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "repository.created", targetType: "repository", targetId: repository.id, data: { provider: "github", name: repository.name } });
    const queued = await requestScan(await dispatcher(), { repositoryId: repository.id, trigger: "manual", branch: repository.defaultBranch });
    return `Connected ${repository.name}; scan ${queued.scan.status}.`;
  });
}

export async function scanNow(form: FormData): Promise<void> {
  const id = String(form.get("repositoryId") ?? "");
  const back = String(form.get("back") ?? "/repositories") === "repository" ? `/repositories/${id}` : "/repositories";
  await guarded(back, async () => {
    const { user, organization } = await requireRole("member", "Starting scans");
    const repository = await getRepositoryInOrganization(organization.id, id);
    if (!repository) return "That repository does not exist.";
    const queued = await requestScan(await dispatcher(), { repositoryId: repository.id, trigger: "manual", branch: repository.defaultBranch });
    if (queued.created) await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "scan.requested", targetType: "scan", targetId: queued.scan.id });
    return queued.created ? `Scan of ${repository.name} queued.` : `A scan of ${repository.name} is already ${queued.scan.status}.`;
  });
}

export async function saveSchedule(form: FormData): Promise<void> {
  const id = String(form.get("repositoryId") ?? "");
  await guarded(`/repositories/${id}`, async () => {
    const { user, organization } = await requireRole("admin", "Changing schedules");
    if (!(await getRepositoryInOrganization(organization.id, id))) return "That repository does not exist.";
    const enabled = form.get("enabled") === "on";
    const cron = String(form.get("cron") ?? "").trim();
    const view = await setRepositorySchedule(id, { cron: cron || null, enabled });
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "repository.schedule", targetType: "repository", targetId: id, data: { cron: view.cron, enabled } });
    return enabled ? `Schedule saved: ${view.description}.` : "Scheduled scans are off.";
  });
}

/** Fix pull requests: how "Open fix PR" groups fixes, and how many may be open at once. */
export async function saveFixPullRequestSettings(form: FormData): Promise<void> {
  const id = String(form.get("repositoryId") ?? "");
  await guarded(`/repositories/${id}`, async () => {
    const { user, organization } = await requireRole("admin", "Changing fix pull request settings");
    if (!(await getRepositoryInOrganization(organization.id, id))) return "That repository does not exist.";
    const grouping = String(form.get("grouping") ?? "");
    if (!isFixGrouping(grouping)) return "Choose how fixes are grouped: by rule, by folder, or one pull request.";
    const maxOpen = Number(form.get("maxOpen") ?? "");
    if (!Number.isInteger(maxOpen) || maxOpen < 1 || maxOpen > 50) return "The most open fix pull requests must be a whole number from 1 to 50.";
    await updateRepositorySettings(id, { fixPrGrouping: grouping, maxOpenFixPrs: maxOpen });
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "repository.fix-pr-settings", targetType: "repository", targetId: id, data: { grouping, maxOpen } });
    return `Fix pull requests: ${fixGroupingLabels[grouping].toLowerCase()}, at most ${maxOpen} open.`;
  });
}

export type ConfigState = { ok: boolean; message: string | null; line: number | null; text: string };

/** Save the repository's configuration override; a bad file is refused with file, key and line. */
export async function saveConfig(_previous: ConfigState, form: FormData): Promise<ConfigState> {
  const id = String(form.get("repositoryId") ?? "");
  const text = String(form.get("config") ?? "").slice(0, 100_000);
  try {
    const { user, organization } = await requireRole("admin", "Changing the configuration");
    if (!(await getRepositoryInOrganization(organization.id, id))) return { ok: false, message: "That repository does not exist.", line: null, text };
    if (text.trim()) parseConfig(text, "poolguard.yml", listRules().map((r) => r.id as RuleId));
    await updateRepositorySettings(id, { configYaml: text.trim() ? text : null });
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "repository.config", targetType: "repository", targetId: id });
    revalidatePath(`/repositories/${id}`);
    return { ok: true, message: text.trim() ? "Configuration saved; the next scan uses it." : "Override removed; scans read the repository's own poolguard.yml.", line: null, text };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, message: error.message, line: error.line, text };
    if (error instanceof ForbiddenError) return { ok: false, message: error.message, line: null, text };
    throw error;
  }
}
