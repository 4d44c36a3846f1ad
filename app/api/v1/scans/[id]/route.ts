import { getScanInOrganization } from "../../../../../lib/db/index.ts";
import { authenticate } from "../../_lib/auth.ts";
import { json, notFound, type RouteContext, respond } from "../../_lib/http.ts";
import { presentScan } from "../../_lib/present.ts";

export const dynamic = "force-dynamic";

export function GET(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const scan = await getScanInOrganization(caller.organizationId, (await context.params).id);
    if (!scan) throw notFound("scan");
    return json(presentScan(scan));
  });
}
