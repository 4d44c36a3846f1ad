import { listFindingsPage } from "../../../../lib/db/index.ts";
import { authenticate } from "../_lib/auth.ts";
import { decodeCursor, encodeCursor, json, respond } from "../_lib/http.ts";
import { presentFinding } from "../_lib/present.ts";
import { findingsQuerySchema } from "../_lib/schemas.ts";

export const dynamic = "force-dynamic";

export function GET(request: Request) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const query = findingsQuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams));
    const page = await listFindingsPage({
      organizationId: caller.organizationId,
      repositoryId: query.repository,
      status: query.status,
      rule: query.rule,
      severity: query.severity,
      path: query.path,
      take: query.limit,
      cursor: decodeCursor(query.cursor),
    });
    return json({ items: page.items.map(presentFinding), nextCursor: encodeCursor(page.nextCursor) });
  });
}
