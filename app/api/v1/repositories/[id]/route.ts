import { getRepositorySchedule } from "../../../../../lib/jobs/index.ts";
import { authenticate } from "../../_lib/auth.ts";
import { json, type RouteContext, respond } from "../../_lib/http.ts";
import { presentRepository } from "../../_lib/present.ts";
import { loadRepository } from "../../_lib/repositories.ts";

export const dynamic = "force-dynamic";

export function GET(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const repository = await loadRepository(caller, (await context.params).id);
    return json({ ...presentRepository(repository), schedule: await getRepositorySchedule(repository.id) });
  });
}
