"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { ForbiddenError, requireRole } from "../../../lib/auth/access.ts";
import { findingsForFixPullRequests } from "../../../lib/db/github-connections.ts";
import { type IgnoreReason, ignoreReasons, triageFindings } from "../../../lib/db/index.ts";
import { jsonLogger, requestFixPullRequests } from "../../../lib/jobs/index.ts";

/** Bulk triage from the findings table or one finding's page. Members and above. */
export async function triage(form: FormData): Promise<void> {
  const back = safeBack(String(form.get("back") ?? "/findings"));
  let notice: string;
  try {
    const { user, organization } = await requireRole("member", "Triaging findings");
    const ids = form.getAll("ids").map(String).filter((id) => /^[\w-]+$/.test(id)).slice(0, 500);
    const action = String(form.get("action") ?? "");
    if (ids.length === 0) notice = "Select at least one finding.";
    else if (action === "reopen") {
      const n = await triageFindings({ organizationId: organization.id, ids, status: "open", actorUserId: user.id });
      notice = `Reopened ${n} finding${n === 1 ? "" : "s"}.`;
    } else if (action === "ignore") {
      const reason = String(form.get("reason") ?? "") as IgnoreReason;
      if (!ignoreReasons.includes(reason)) notice = "Choose why the findings are ignored.";
      else {
        const n = await triageFindings({ organizationId: organization.id, ids, status: "ignored", reason, comment: String(form.get("comment") ?? ""), actorUserId: user.id });
        notice = `Ignored ${n} finding${n === 1 ? "" : "s"} (${reason}).`;
      }
    } else notice = "Unknown action.";
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    notice = `${error.message}.`;
  }
  revalidatePath("/findings");
  redirect(`${back}${back.includes("?") ? "&" : "?"}notice=${encodeURIComponent(notice)}`);
}

/**
 * "Open fix PR(s)": for the selected open findings of GitHub repositories whose fix is
 * safe, queue the fix pull request job (one per repository). Members and above.
 */
export async function openFixPullRequests(form: FormData): Promise<void> {
  const back = safeBack(String(form.get("back") ?? "/findings"));
  let notice: string;
  try {
    const { user, organization } = await requireRole("member", "Opening fix pull requests");
    const ids = form.getAll("ids").map(String).filter((id) => /^[\w-]+$/.test(id)).slice(0, 500);
    const rows = await findingsForFixPullRequests(organization.id, ids);
    const eligible = rows.filter((r) => r.status === "open" && r.fixSafety === "safe" && r.provider === "github");
    if (ids.length === 0) notice = "Select at least one finding.";
    else if (eligible.length === 0) notice = "None of the selected findings can go into a fix pull request: only open findings of GitHub repositories with a safe fix can.";
    else {
      const byRepository = new Map<string, string[]>();
      for (const r of eligible) byRepository.set(r.repositoryId, [...(byRepository.get(r.repositoryId) ?? []), r.id]);
      for (const [repositoryId, findingIds] of byRepository) {
        await requestFixPullRequests({ organizationId: organization.id, repositoryId, findingIds, actorUserId: user.id, log: jsonLogger({ job: "open-fix-pull-request" }) });
      }
      const skipped = rows.length - eligible.length;
      notice = `Opening fix pull requests for ${eligible.length} finding${eligible.length === 1 ? "" : "s"}${skipped > 0 ? ` (${skipped} without a safe fix or not on GitHub left out)` : ""}.`;
    }
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    notice = `${error.message}.`;
  }
  revalidatePath("/findings");
  redirect(`${back}${back.includes("?") ? "&" : "?"}notice=${encodeURIComponent(notice)}`);
}

/** Only paths inside the dashboard, so the form cannot be used to redirect elsewhere. */
function safeBack(back: string): string {
  const clean = back.replace(/[?&]notice=[^&]*/g, "");
  return /^\/(findings|repositories)(\/[\w-]*)?(\?[^\s]*)?$/.test(clean) ? clean : "/findings";
}
