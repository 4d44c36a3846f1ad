import { listRepositoriesPage } from "../../../../lib/db/index.ts";
import { authenticate } from "../_lib/auth.ts";
import { decodeCursor, encodeCursor, json, readJson, respond } from "../_lib/http.ts";
import { presentRepository } from "../_lib/present.ts";
import { registerRepository } from "../_lib/repositories.ts";
import { createRepositorySchema, pageQuerySchema } from "../_lib/schemas.ts";

export const dynamic = "force-dynamic";

export function GET(request: Request) {
  return respond(async () => {
    const caller = await authenticate(request, "viewer");
    const query = pageQuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams));
    const page = await listRepositoriesPage(caller.organizationId, { take: query.limit, cursor: decodeCursor(query.cursor) });
    return json({ items: page.items.map(presentRepository), nextCursor: encodeCursor(page.nextCursor) });
  });
}

export function POST(request: Request) {
  return respond(async () => {
    const caller = await authenticate(request, "admin");
    const body = createRepositorySchema.parse(await readJson(request));
    const repository = await registerRepository(caller, body);
    return json(presentRepository({ ...repository, latestScan: null }), 201, { location: `/api/v1/repositories/${repository.id}` });
  });
}
