import { db } from "./client.ts";
import { parseJson } from "./types.ts";

export async function recordAuditEvent(input: {
  organizationId?: string | null;
  actorUserId?: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  data?: Record<string, unknown>;
}) {
  return db().auditEvent.create({
    data: {
      organizationId: input.organizationId ?? null,
      actorUserId: input.actorUserId ?? null,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId ?? null,
      data: JSON.stringify(input.data ?? {}),
    },
  });
}

export async function listAuditEvents(organizationId: string, { take = 50 }: { take?: number } = {}) {
  const events = await db().auditEvent.findMany({ where: { organizationId }, orderBy: { createdAt: "desc" }, take });
  return events.map((e) => ({ ...e, data: parseJson<Record<string, unknown>>(e.data, {}) }));
}
