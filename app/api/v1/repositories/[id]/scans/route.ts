import { listScans } from "../../../../../../lib/db/index.ts";
import { dispatcher, requestScan } from "../../../../../../lib/jobs/index.ts";
import { authenticate } from "../../../_lib/auth.ts";
import { decodeCursor, encodeCursor, json, readJson, type RouteContext, respond } from "../../../_lib/http.ts";
import { presentScanSummary } from "../../../_lib/present.ts";
import { loadRepository } from "../../../_lib/repositories.ts";
import { createScanSchema, pageQuerySchema } from "../../../_lib/schemas.ts";

export const dynamic = "force-dynamic";

export function GET(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const repository = await loadRepository(caller, (await context.params).id);
    const query = pageQuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams));
    const rows = await listScans(repository.id, { take: query.limit + 1, cursor: decodeCursor(query.cursor) });
    const items = rows.slice(0, query.limit);
    return json({ items: items.map(presentScanSummary), nextCursor: rows.length > query.limit ? encodeCursor(items.at(-1)?.id) : null });
  });
}

/** Queue a scan. `Idempotency-Key` makes retries of the same request return the same scan. */
export function POST(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "member");
    const repository = await loadRepository(caller, (await context.params).id);
    const body = createScanSchema.parse(await readJson(request));
    const key = request.headers.get("idempotency-key")?.trim();
    const { scan, created } = await requestScan(await dispatcher(), {
      repositoryId: repository.id,
      trigger: "manual",
      branch: body.branch ?? repository.defaultBranch,
      commitSha: body.commitSha ?? null,
      idempotencyKey: key ? `api-${caller.organizationId}-${key.slice(0, 200)}` : null,
    });
    return json({ id: scan.id, status: scan.status, created }, 202, { location: `/api/v1/scans/${scan.id}` });
  });
}
