import { getFindingInOrganization, triageFindings } from "../../../../../lib/db/index.ts";
import { authenticate } from "../../_lib/auth.ts";
import { ApiError, json, notFound, type RouteContext, readJson, respond } from "../../_lib/http.ts";
import { presentFinding } from "../../_lib/present.ts";
import { triageSchema } from "../../_lib/schemas.ts";

export const dynamic = "force-dynamic";

type FindingDetail = NonNullable<Awaited<ReturnType<typeof getFindingInOrganization>>>;

/** A finding with the code around it, its status history and its fix pull requests. */
function presentFindingDetail(f: FindingDetail) {
  return {
    ...presentFinding(f),
    repository: { id: f.repository.id, name: f.repository.name },
    context: f.context !== null && f.contextStartLine !== null ? { startLine: f.contextStartLine, text: f.context } : null,
    history: f.history.map((e) => ({
      action: e.action,
      at: e.at.toISOString(),
      actor: e.actor,
      reason: typeof e.data.reason === "string" ? e.data.reason : null,
      comment: typeof e.data.comment === "string" ? e.data.comment : null,
    })),
    pullRequests: f.pullRequests.map((pr) => ({ number: pr.number, url: pr.url, state: pr.state, branch: pr.branch })),
  };
}

export function GET(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const finding = await getFindingInOrganization((await context.params).id, caller.organizationId);
    if (!finding) throw notFound("finding");
    return json(presentFindingDetail(finding));
  });
}

/**
 * Triage: ignore with a reason (and a comment) or reopen, through the same code as the
 * dashboard (status history, audit event naming the token). Asking for the status a
 * finding already has changes nothing and answers the finding as it is.
 */
export function PATCH(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "member");
    const id = (await context.params).id;
    const body = triageSchema.parse(await readJson(request, { maxBytes: 16 * 1024 }));
    const finding = await getFindingInOrganization(id, caller.organizationId);
    if (!finding) throw notFound("finding");
    if (body.status === "open" && finding.status === "fixed") throw new ApiError(409, "conflict", "the finding is fixed; only ignored findings can be reopened");
    await triageFindings({
      organizationId: caller.organizationId,
      ids: [finding.id],
      status: body.status,
      reason: body.status === "ignored" ? body.reason : null,
      comment: body.comment ?? null,
      actorUserId: null,
      apiTokenId: caller.tokenId,
    });
    const updated = await getFindingInOrganization(finding.id, caller.organizationId);
    if (!updated) throw notFound("finding");
    return json(presentFindingDetail(updated));
  });
}
