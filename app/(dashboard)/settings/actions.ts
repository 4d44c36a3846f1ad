"use server";

import { revalidatePath } from "next/cache";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { ForbiddenError, requireMember, requireRole } from "../../../lib/auth/access.ts";
import { organizationCookieName } from "../../../lib/auth/session.ts";
import { createSignInLink } from "../../../lib/auth/sign-in-link.ts";
import { issueApiToken } from "../../../lib/cli/admin.ts";
import {
  addMember,
  type ApiTokenRole,
  apiTokenRoles,
  countOwners,
  createUser,
  findUserByEmail,
  listMembers,
  normalizeEmail,
  recordAuditEvent,
  removeMember,
  revokeApiToken,
  type Role,
  roles,
} from "../../../lib/db/index.ts";

// Settings actions. Members and roles, invitations and API tokens need admin; only an
// owner can make or unmake owners, and the last owner cannot leave.

export type SettingsState = { ok: boolean; message: string | null; secret?: string | null };

async function baseUrl(): Promise<string> {
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? "127.0.0.1:3000";
  const proto = h.get("x-forwarded-proto") ?? "http";
  return `${proto}://${host}`;
}

async function attempt(run: () => Promise<SettingsState>): Promise<SettingsState> {
  try {
    const state = await run();
    revalidatePath("/settings");
    return state;
  } catch (error) {
    if (error instanceof ForbiddenError) return { ok: false, message: `${error.message}.` };
    throw error;
  }
}

/** Invite by email: a member with a one-time sign-in link to hand over (valid 24 hours). */
export async function invite(_previous: SettingsState, form: FormData): Promise<SettingsState> {
  return attempt(async () => {
    const { user, organization, role } = await requireRole("admin", "Inviting members");
    const email = normalizeEmail(String(form.get("email") ?? ""));
    const wanted = String(form.get("role") ?? "member") as Role;
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) return { ok: false, message: "Enter an email address." };
    if (!roles.includes(wanted)) return { ok: false, message: "Choose a role." };
    if (wanted === "owner" && role !== "owner") return { ok: false, message: "Only an owner can invite an owner." };
    const invitee = (await findUserByEmail(email)) ?? (await createUser({ email, name: email.split("@")[0] }));
    await addMember({ organizationId: organization.id, userId: invitee.id, role: wanted });
    const link = await createSignInLink(invitee.id, await baseUrl());
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "member.invited", targetType: "user", targetId: invitee.id, data: { email, role: wanted } });
    return { ok: true, message: `Invited ${email} as ${wanted}. Send them this one-time sign-in link (valid 24 hours):`, secret: link };
  });
}

export async function changeRole(form: FormData): Promise<void> {
  const userId = String(form.get("userId") ?? "");
  const wanted = String(form.get("role") ?? "") as Role;
  let notice = "";
  try {
    const { user, organization, role } = await requireRole("admin", "Changing roles");
    const members = await listMembers(organization.id);
    const target = members.find((m) => m.userId === userId);
    if (!target || !roles.includes(wanted)) notice = "That member does not exist.";
    else if ((wanted === "owner" || target.role === "owner") && role !== "owner") notice = "Only an owner can make or unmake owners.";
    else if (target.role === "owner" && wanted !== "owner" && (await countOwners(organization.id)) <= 1) notice = "The organization needs at least one owner.";
    else {
      await addMember({ organizationId: organization.id, userId, role: wanted });
      await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "member.role", targetType: "user", targetId: userId, data: { role: wanted } });
      notice = `${target.email} is now ${wanted}.`;
    }
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    notice = `${error.message}.`;
  }
  revalidatePath("/settings");
  redirect(`/settings?notice=${encodeURIComponent(notice)}`);
}

export async function remove(form: FormData): Promise<void> {
  const userId = String(form.get("userId") ?? "");
  let notice = "";
  try {
    const { user, organization, role } = await requireRole("admin", "Removing members");
    const members = await listMembers(organization.id);
    const target = members.find((m) => m.userId === userId);
    if (!target) notice = "That member does not exist.";
    else if (target.role === "owner" && (role !== "owner" || (await countOwners(organization.id)) <= 1)) notice = "The last owner cannot be removed, and only owners remove owners.";
    else {
      await removeMember(organization.id, userId);
      await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "member.removed", targetType: "user", targetId: userId, data: { email: target.email } });
      notice = `Removed ${target.email}.`;
    }
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    notice = `${error.message}.`;
  }
  revalidatePath("/settings");
  redirect(`/settings?notice=${encodeURIComponent(notice)}`);
}

/** A new API token for this organization, shown once. */
export async function createToken(_previous: SettingsState, form: FormData): Promise<SettingsState> {
  return attempt(async () => {
    const { user, organization } = await requireRole("admin", "Creating API tokens");
    const role = String(form.get("role") ?? "viewer") as ApiTokenRole;
    const name = String(form.get("name") ?? "").trim().slice(0, 100);
    if (!apiTokenRoles.includes(role)) return { ok: false, message: "Choose a role." };
    if (!name) return { ok: false, message: "Name the token (what uses it)." };
    const { token, id } = await issueApiToken({ organizationId: organization.id, role, name });
    await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "token.created", targetType: "api_token", targetId: id, data: { name, role } });
    return { ok: true, message: `Token "${name}" (${role}) created. Copy it now: it is not shown again.`, secret: token };
  });
}

export async function revokeToken(form: FormData): Promise<void> {
  const id = String(form.get("tokenId") ?? "");
  let notice = "";
  try {
    const { user, organization } = await requireRole("admin", "Revoking API tokens");
    const revoked = await revokeApiToken(organization.id, id);
    if (revoked) await recordAuditEvent({ organizationId: organization.id, actorUserId: user.id, action: "token.revoked", targetType: "api_token", targetId: id });
    notice = revoked ? "Token revoked." : "That token does not exist or is already revoked.";
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    notice = `${error.message}.`;
  }
  revalidatePath("/settings");
  redirect(`/settings?notice=${encodeURIComponent(notice)}`);
}

/** Switch the organization the dashboard shows (only one the user belongs to). */
export async function switchOrganization(form: FormData): Promise<void> {
  const slug = String(form.get("slug") ?? "");
  const { organizations } = await requireMember();
  if (organizations.some((o) => o.slug === slug)) (await cookies()).set(organizationCookieName, slug, { httpOnly: true, sameSite: "lax", path: "/" });
  redirect("/repositories");
}
