import { completeScan, startUploadedScan } from "../../../../../../lib/db/index.ts";
import type { ScanResult } from "../../../../../../lib/analyzer/types.ts";
import { authenticate } from "../../../_lib/auth.ts";
import { json, readJson, type RouteContext, respond } from "../../../_lib/http.ts";
import { loadRepository } from "../../../_lib/repositories.ts";
import { uploadSchema } from "../../../_lib/schemas.ts";

export const dynamic = "force-dynamic";

/**
 * Results of a scan run elsewhere (CI: `poolguard scan --upload URL`), reconciled like
 * a server-side scan in one transaction: new findings open, vanished ones fixed.
 */
export function POST(request: Request, context: RouteContext<{ id: string }>) {
  return respond(async () => {
    const caller = await authenticate(request, "member");
    const repository = await loadRepository(caller, (await context.params).id);
    const body = uploadSchema.parse(await readJson(request, { maxBytes: 64 * 1024 * 1024 }));
    const owner = `upload-${caller.tokenId}-${Date.now()}`;
    const scan = await startUploadedScan({ repositoryId: repository.id, owner, commitSha: body.commitSha, branch: body.branch ?? repository.defaultBranch });
    const result = {
      tool: body.tool,
      root: "",
      files_scanned: body.files_scanned,
      duration_ms: body.duration_ms,
      findings: body.findings.map((f) => ({ ...f, fix: (f.fix ?? null) as ScanResult["findings"][number]["fix"] })),
      errors: body.errors,
    } as ScanResult;
    const stored = await completeScan(scan.id, result, { partial: body.partial, owner });
    return json({ id: stored.id, status: stored.status, findingsCount: stored.findingsCount }, 201, { location: `/api/v1/scans/${stored.id}` });
  });
}
