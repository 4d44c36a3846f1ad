import { getScanInOrganization, requestScanCancel } from "../../../../../../lib/db/index.ts";
import { authenticate } from "../../../_lib/auth.ts";
import { ApiError, json, notFound, type RouteContext, respond } from "../../../_lib/http.ts";
import { presentScan } from "../../../_lib/present.ts";

export const dynamic = "force-dynamic";

/** A queued scan is cancelled at once; a running one stops within a lease heartbeat. */
export function POST(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "member");
    const scan = await getScanInOrganization(caller.organizationId, (await context.params).id);
    if (!scan) throw notFound("scan");
    if (scan.status !== "queued" && scan.status !== "running") throw new ApiError(409, "not_cancellable", `the scan has already ended (${scan.status})`);
    const updated = await requestScanCancel(scan.id);
    if (!updated) throw notFound("scan");
    return json(presentScan(updated), 202);
  });
}
