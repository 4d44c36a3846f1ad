import { z } from "zod";
import packageJson from "../../../../package.json" with { type: "json" };
import { createRepositorySchema, createScanSchema, scheduleSchema, triageSchema, uploadSchema } from "./schemas.ts";

// The OpenAPI 3.1 description of /api/v1. Request bodies come from the same zod
// schemas the handlers validate with, so the document cannot drift from them.

const body = (schema: z.ZodType) => ({ required: true, content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ok = (description: string, schema: object) => ({ description, content: { "application/json": { schema } } });
// Every token-authenticated operation can also answer 429: the per-token rate limit runs
// in front of all of them.
const errors = (...codes: number[]) =>
  Object.fromEntries(
    (codes.includes(401) ? [...codes, 429] : codes).map((code) => [
      String(code),
      { description: errorDescriptions[code], content: { "application/json": { schema: ref("Error") } }, ...(code === 429 ? { headers: retryAfter } : {}) },
    ]),
  );
const retryAfter = { "Retry-After": { description: "seconds until the token may call again", schema: { type: "integer" } } };
const errorDescriptions: Record<number, string> = {
  400: "invalid request (code: invalid_request, invalid_json, invalid_cursor, invalid_repository, invalid_cron)",
  401: "missing or invalid token (code: unauthorized)",
  403: "the token's role does not allow this (code: forbidden)",
  404: "not found, or not in the token's organization (code: not_found)",
  409: "conflict (code: conflict, not_cancellable)",
  413: "body too large (code: payload_too_large)",
  429: "too many requests with this token (code: rate_limited); wait Retry-After seconds",
  501: "not supported on this server, e.g. GitHub is not configured (code: not_supported)",
  502: "GitHub could not be reached (code: github_unavailable)",
};
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const pageParams = [
  { name: "cursor", in: "query", schema: { type: "string" }, description: "nextCursor of the previous page" },
  { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 50 } },
];
const page = (item: string) => ({
  type: "object",
  required: ["items", "nextCursor"],
  properties: { items: { type: "array", items: ref(item) }, nextCursor: { type: ["string", "null"] } },
});
const nullableString = { type: ["string", "null"] };
const counts = { type: "object", additionalProperties: { type: "integer" } };

export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Poolguard API",
      version: `1 (server ${packageJson.version})`,
      description:
        "Repositories, scans, findings and schedules of one organization. Authenticate with `Authorization: Bearer <token>` (create one with `npm run poolguard -- admin create-token`). Roles: viewer reads; member also queues, cancels and uploads scans and triages findings; admin also adds repositories and sets schedules. Lists are paginated with opaque cursors. Errors are `{ \"error\": { \"code\", \"message\" } }`.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } } },
        },
        Repository: {
          type: "object",
          required: ["id", "provider", "name"],
          properties: {
            id: { type: "string" },
            provider: { enum: ["local", "git", "github"] },
            name: { type: "string" },
            defaultBranch: { type: "string" },
            path: nullableString,
            url: nullableString,
            fullName: nullableString,
            archived: { type: "boolean" },
            createdAt: { type: "string", format: "date-time" },
            latestScan: { oneOf: [{ type: "null" }, ref("ScanSummary")] },
            schedule: ref("Schedule"),
          },
        },
        ScanSummary: {
          type: "object",
          required: ["id", "trigger", "status", "commitSha", "createdAt"],
          properties: { id: { type: "string" }, trigger: { type: "string" }, status: ref("ScanStatus"), commitSha: nullableString, createdAt: { type: "string", format: "date-time" } },
        },
        ScanStatus: { enum: ["queued", "running", "succeeded", "failed", "cancelled", "skipped"] },
        Scan: {
          type: "object",
          required: ["id", "status", "filesDone", "filesTotal", "findingsCount", "error"],
          properties: {
            id: { type: "string" },
            repositoryId: { type: "string" },
            trigger: { type: "string" },
            status: ref("ScanStatus"),
            commitSha: nullableString,
            branch: nullableString,
            filesDone: { type: "integer" },
            filesTotal: { type: "integer" },
            findingsCount: { type: "integer" },
            countsByRule: counts,
            countsBySeverity: counts,
            durationMs: { type: ["integer", "null"] },
            error: nullableString,
            attempts: { type: "integer" },
            cancelRequested: { type: "boolean" },
            createdAt: { type: "string", format: "date-time" },
            startedAt: { type: ["string", "null"], format: "date-time" },
            finishedAt: { type: ["string", "null"], format: "date-time" },
          },
        },
        Finding: {
          type: "object",
          required: ["id", "rule", "severity", "path", "line", "status", "fingerprint"],
          properties: {
            id: { type: "string" },
            repositoryId: { type: "string" },
            rule: { type: "string" },
            severity: { enum: ["error", "warning", "info"] },
            message: { type: "string" },
            path: { type: "string" },
            line: { type: "integer" },
            column: { type: "integer" },
            endLine: { type: "integer" },
            endColumn: { type: "integer" },
            status: { enum: ["open", "fixed", "ignored"] },
            fingerprint: { type: "string" },
            ignoredReason: nullableString,
            snippet: { type: "string" },
            fix: { type: ["string", "null"], description: "safety of the offered fix: safe, unsafe or null" },
            firstSeenScanId: nullableString,
            lastSeenScanId: nullableString,
            fixedInScanId: nullableString,
            createdAt: { type: "string", format: "date-time" },
            updatedAt: { type: "string", format: "date-time" },
          },
        },
        FindingDetail: {
          allOf: [
            ref("Finding"),
            {
              type: "object",
              required: ["repository", "context", "history", "pullRequests"],
              properties: {
                repository: { type: "object", properties: { id: { type: "string" }, name: { type: "string" } } },
                context: {
                  description: "the lines around the finding as of the last scan (a few either side, long lines cut); null when not stored (uploaded scans)",
                  oneOf: [{ type: "null" }, { type: "object", required: ["startLine", "text"], properties: { startLine: { type: "integer" }, text: { type: "string" } } }],
                },
                history: {
                  type: "array",
                  description: "status changes and fix pull request requests, oldest first",
                  items: {
                    type: "object",
                    required: ["action", "at", "actor"],
                    properties: {
                      action: { type: "string", description: "finding.ignored, finding.reopened, finding.fix-pr-requested, finding.fix-pr-opened, finding.fix-pr-failed" },
                      at: { type: "string", format: "date-time" },
                      actor: { type: ["string", "null"], description: "the user's email, or the API token's name" },
                      reason: nullableString,
                      comment: nullableString,
                    },
                  },
                },
                pullRequests: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: { number: { type: ["integer", "null"] }, url: nullableString, state: { enum: ["open", "closed", "merged"] }, branch: { type: "string" } },
                  },
                },
              },
            },
          ],
        },
        Schedule: {
          type: "object",
          required: ["cron", "enabled", "description", "nextRuns"],
          properties: {
            cron: { type: "string", description: "five-field cron, UTC" },
            enabled: { type: "boolean" },
            description: { type: "string" },
            nextRuns: { type: "array", items: { type: "string", format: "date-time" } },
            lastRunAt: { type: ["string", "null"], format: "date-time" },
          },
        },
      },
    },
    paths: {
      "/repositories": {
        get: { summary: "List repositories", parameters: pageParams, responses: { 200: ok("a page of repositories", page("Repository")), ...errors(400, 401) } },
        post: {
          summary: "Add a repository (local path under POOLGUARD_LOCAL_ROOTS, https/ssh git URL, or GitHub repository)",
          requestBody: body(createRepositorySchema),
          responses: { 201: ok("the repository", ref("Repository")), ...errors(400, 401, 403, 409, 501, 502) },
        },
      },
      "/repositories/{id}": {
        get: { summary: "A repository with its schedule", parameters: [idParam], responses: { 200: ok("the repository", ref("Repository")), ...errors(401, 404) } },
      },
      "/repositories/{id}/scans": {
        get: {
          summary: "Scans of a repository, newest first",
          parameters: [idParam, ...pageParams],
          responses: { 200: ok("a page of scans", page("ScanSummary")), ...errors(400, 401, 404) },
        },
        post: {
          summary: "Queue a scan (the same repository and commit is not queued twice; send Idempotency-Key to make retries safe)",
          parameters: [idParam, { name: "Idempotency-Key", in: "header", schema: { type: "string" } }],
          requestBody: { ...body(createScanSchema), required: false },
          responses: {
            202: ok("queued", { type: "object", required: ["id", "status"], properties: { id: { type: "string" }, status: ref("ScanStatus"), created: { type: "boolean" } } }),
            ...errors(400, 401, 403, 404),
          },
        },
      },
      "/repositories/{id}/schedule": {
        get: { summary: "The repository's scan schedule", parameters: [idParam], responses: { 200: ok("the schedule", ref("Schedule")), ...errors(401, 404) } },
        put: {
          summary: "Set the scan schedule (cron in UTC; null restores the staggered daily default)",
          parameters: [idParam],
          requestBody: body(scheduleSchema),
          responses: { 200: ok("the schedule", ref("Schedule")), ...errors(400, 401, 403, 404) },
        },
      },
      "/repositories/{id}/uploads": {
        post: {
          summary: "Upload a CLI scan's JSON result (poolguard scan --upload); findings are reconciled like a server scan",
          parameters: [idParam],
          requestBody: body(uploadSchema),
          responses: {
            201: ok("stored", { type: "object", properties: { id: { type: "string" }, status: ref("ScanStatus"), findingsCount: { type: "integer" } } }),
            ...errors(400, 401, 403, 404, 413),
          },
        },
      },
      "/scans/{id}": { get: { summary: "A scan, with live progress", parameters: [idParam], responses: { 200: ok("the scan", ref("Scan")), ...errors(401, 404) } } },
      "/scans/{id}/cancel": {
        post: { summary: "Cancel a queued or running scan", parameters: [idParam], responses: { 202: ok("the scan", ref("Scan")), ...errors(401, 403, 404, 409) } },
      },
      "/findings": {
        get: {
          summary: "Findings of the organization",
          parameters: [
            { name: "repository", in: "query", schema: { type: "string" }, description: "repository id" },
            { name: "status", in: "query", schema: { enum: ["open", "fixed", "ignored"] } },
            { name: "rule", in: "query", schema: { type: "string" } },
            { name: "severity", in: "query", schema: { enum: ["error", "warning", "info"] } },
            { name: "path", in: "query", schema: { type: "string" }, description: "a file, or a folder prefix" },
            ...pageParams,
          ],
          responses: { 200: ok("a page of findings", page("Finding")), ...errors(400, 401) },
        },
      },
      "/findings/{id}": {
        get: {
          summary: "A finding with the code around it, its status history and fix pull requests",
          parameters: [idParam],
          responses: { 200: ok("the finding", ref("FindingDetail")), ...errors(401, 404) },
        },
        patch: {
          summary: "Triage a finding: ignore it with a reason (false-positive, wont-fix, test-code) and an optional comment, or reopen it (member role)",
          parameters: [idParam],
          requestBody: body(triageSchema),
          responses: { 200: ok("the finding after the change", ref("FindingDetail")), ...errors(400, 401, 403, 404, 409) },
        },
      },
      "/openapi.json": { get: { summary: "This document", security: [], responses: { 200: { description: "OpenAPI 3.1" } } } },
    },
  };
}
