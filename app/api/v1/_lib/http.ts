import { ZodError } from "zod";

// JSON helpers shared by the v1 route handlers: one error shape everywhere,
// { "error": { "code", "message" } }, with the matching HTTP status.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what = "resource") => new ApiError(404, "not_found", `${what} not found`);

const noStore = { "cache-control": "no-store" };

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data, (_key, value) => (typeof value === "bigint" ? value.toString() : value)), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...noStore, ...headers },
  });
}

export function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: { code, message } }, status, headers);
}

function zodMessage(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`)
    .join("; ");
}

/** Run a handler; map thrown errors to the API's error shape (never a stack trace). */
export async function respond(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError) {
      const headers: Record<string, string> = error.status === 401 ? { "www-authenticate": 'Bearer realm="poolguard"' } : {};
      return errorResponse(error.status, error.code, error.message, headers);
    }
    if (error instanceof ZodError) return errorResponse(400, "invalid_request", zodMessage(error));
    console.error(JSON.stringify({ level: 50, time: Date.now(), msg: "api error", error: error instanceof Error ? error.message : String(error) }));
    return errorResponse(500, "internal_error", "something went wrong on the server");
  }
}

/** Parse a JSON body (400 when it is not JSON). */
export async function readJson(request: Request, { maxBytes = 1024 * 1024 } = {}): Promise<unknown> {
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > maxBytes) throw new ApiError(413, "payload_too_large", `the request body is larger than ${maxBytes} bytes`);
  const text = await request.text();
  if (text.length > maxBytes) throw new ApiError(413, "payload_too_large", `the request body is larger than ${maxBytes} bytes`);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "the request body is not valid JSON");
  }
}

export type RouteContext<P extends Record<string, string>> = { params: Promise<P> };

/** Opaque cursors: the id of the last item, base64url-encoded. */
export function encodeCursor(id: string | null | undefined): string | null {
  return id ? Buffer.from(id, "utf8").toString("base64url") : null;
}

export function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new ApiError(400, "invalid_cursor", "the cursor is not one this API returned");
  return id;
}
