import { json } from "../_lib/http.ts";
import { openApiDocument } from "../_lib/openapi.ts";

export const dynamic = "force-dynamic";

/** Public: the API's description, for clients and generators. */
export function GET() {
  return json(openApiDocument());
}
