import { z } from "zod";

// Request schemas (zod), shared by the handlers and the OpenAPI document.

export const limitSchema = z.coerce.number().int().min(1).max(100).default(50);

export const createRepositorySchema = z.discriminatedUnion("provider", [
  z.object({
    provider: z.literal("local"),
    path: z.string().min(1).max(4096),
    name: z.string().min(1).max(200).optional(),
  }),
  z.object({
    provider: z.literal("git"),
    url: z.string().min(1).max(2048),
    name: z.string().min(1).max(200).optional(),
    defaultBranch: z.string().min(1).max(255).optional(),
  }),
  z.object({
    provider: z.literal("github"),
    fullName: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "owner/name"),
  }),
]);

export const createScanSchema = z
  .object({
    commitSha: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/i, "a commit SHA")
      .optional(),
    branch: z.string().min(1).max(255).optional(),
  })
  .strict();

export const scheduleSchema = z
  .object({
    cron: z.string().min(1).max(100).nullable(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const findingsQuerySchema = z.object({
  repository: z.string().min(1).optional(),
  status: z.enum(["open", "fixed", "ignored"]).optional(),
  rule: z.string().min(1).max(100).optional(),
  severity: z.enum(["error", "warning", "info"]).optional(),
  path: z.string().min(1).max(4096).optional(),
  cursor: z.string().optional(),
  limit: limitSchema,
});

/** PATCH /findings/{id}: the dashboard's triage; a reason is needed to ignore. */
export const triageSchema = z
  .object({
    status: z.enum(["ignored", "open"]),
    reason: z.enum(["false-positive", "wont-fix", "test-code"]).optional(),
    comment: z.string().max(2000).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.status === "ignored" && !body.reason) ctx.addIssue({ code: "custom", path: ["reason"], message: "a reason is required to ignore a finding (false-positive, wont-fix or test-code)" });
    if (body.status === "open" && body.reason) ctx.addIssue({ code: "custom", path: ["reason"], message: "a reason is given only when ignoring" });
  });

export const pageQuerySchema = z.object({ cursor: z.string().optional(), limit: limitSchema });

const position = z.number().int().min(0);

/** A CLI scan's JSON document (`poolguard scan --format json`), plus where it was taken. */
export const uploadSchema = z.object({
  tool: z.object({ name: z.literal("poolguard"), version: z.string() }),
  files_scanned: z.number().int().min(0),
  duration_ms: z.number().min(0),
  findings: z
    .array(
      z.object({
        rule: z.string().min(1).max(100),
        severity: z.enum(["error", "warning", "info"]),
        message: z.string().max(10_000),
        path: z.string().min(1).max(4096),
        line: position,
        column: position,
        end_line: position,
        end_column: position,
        fingerprint: z.string().min(1).max(200),
        suppressed: z.boolean(),
        fix: z.unknown().nullable().optional(),
      }),
    )
    .max(200_000),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).default([]),
  commitSha: z.string().max(64).nullable().optional(),
  branch: z.string().max(255).nullable().optional(),
  /** True when the CLI scanned only some paths (--only, --changed-since): nothing is closed. */
  partial: z.boolean().default(false),
});
