import { currentMember } from "../../../../../lib/auth/session.ts";
import { scanProgress } from "../../../../../lib/db/index.ts";

export const dynamic = "force-dynamic";

/** Progress of one scan for the repository page (cookie session; 404 outside the user's organization). */
export async function GET(request: Request): Promise<Response> {
  const member = await currentMember();
  if (!member) return Response.json({ error: { code: "unauthenticated", message: "Sign in first." } }, { status: 401 });
  const { organization } = member;
  const scanId = new URL(request.url).searchParams.get("scan") ?? "";
  const scan = organization && /^[\w-]+$/.test(scanId) ? await scanProgress(scanId, organization.id) : null;
  if (!scan) return Response.json({ error: { code: "not_found", message: "scan not found" } }, { status: 404 });
  return Response.json(scan, { headers: { "cache-control": "no-store" } });
}
