import { CronError, getRepositorySchedule, setRepositorySchedule } from "../../../../../../lib/jobs/index.ts";
import { authenticate } from "../../../_lib/auth.ts";
import { ApiError, json, readJson, type RouteContext, respond } from "../../../_lib/http.ts";
import { loadRepository } from "../../../_lib/repositories.ts";
import { scheduleSchema } from "../../../_lib/schemas.ts";

export const dynamic = "force-dynamic";

export function GET(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const repository = await loadRepository(caller, (await context.params).id);
    return json(await getRepositorySchedule(repository.id));
  });
}

/** `{ "cron": "m h dom mon dow" }` (UTC); `null` restores the staggered daily default. */
export function PUT(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "admin");
    const repository = await loadRepository(caller, (await context.params).id);
    const body = scheduleSchema.parse(await readJson(request));
    try {
      return json(await setRepositorySchedule(repository.id, { cron: body.cron, enabled: body.enabled }));
    } catch (error) {
      if (error instanceof CronError) throw new ApiError(400, "invalid_cron", error.message);
      throw error;
    }
  });
}
