import { hashToken } from "../../../../lib/auth/tokens.ts";
import { type ApiTokenRole, findApiTokenByHash, touchApiToken } from "../../../../lib/db/index.ts";
import { ApiError } from "./http.ts";

// Bearer API tokens: each belongs to one organization and has a role. Only the
// SHA-256 of a token is stored, so a lookup is a hash and an indexed read.

export type ApiCaller = { tokenId: string; organizationId: string; organizationSlug: string; role: ApiTokenRole };

const rank: Record<ApiTokenRole, number> = { viewer: 0, member: 1, admin: 2 };

/** What each role may do: viewer reads, member also scans and uploads, admin also configures. */
export async function authenticate(request: Request, needs: ApiTokenRole = "viewer"): Promise<ApiCaller> {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, "unauthorized", "send an API token as 'Authorization: Bearer <token>'");
  const token = await findApiTokenByHash(hashToken(match[1]));
  if (!token) throw new ApiError(401, "unauthorized", "the API token is not valid (unknown or revoked)");
  if (rank[token.role] < rank[needs]) throw new ApiError(403, "forbidden", `this needs a token with the ${needs} role (this one is ${token.role})`);
  await touchApiToken(token.id);
  return { tokenId: token.id, organizationId: token.organizationId, organizationSlug: token.organization.slug, role: token.role };
}
