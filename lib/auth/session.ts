import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { listOrganizationsForUser } from "../db/index.ts";
import { auth } from "./auth.ts";

// The signed-in user, from better-auth's session cookie, for pages, server actions and
// route handlers. Which organization they work in is Poolguard's own cookie.

export type SignedInUser = { id: string; email: string; name: string };

export async function currentUser(): Promise<SignedInUser | null> {
  const found = await auth().api.getSession({ headers: await headers() });
  if (!found) return null;
  return { id: found.user.id, email: found.user.email, name: found.user.name };
}

/** End the browser's session (server actions; the cookie is cleared through next/headers). */
export async function endSession(): Promise<void> {
  try {
    await auth().api.signOut({ headers: await headers() });
  } catch {
    // No session to end: signing out is still done.
  }
}

/** Cookie holding the slug of the organization the user is working in (several per user). */
export const organizationCookieName = "poolguard_org";

async function withOrganization(user: SignedInUser) {
  const organizations = await listOrganizationsForUser(user.id);
  const chosen = (await cookies()).get(organizationCookieName)?.value;
  const organization = organizations.find((o) => o.slug === chosen) ?? organizations[0] ?? null;
  return { user, organization, organizations };
}

/** The signed-in user and their current organization (chosen in Settings, else the first); redirects to /sign-in otherwise. */
export async function requireUser() {
  const user = await currentUser();
  if (!user) redirect("/sign-in");
  return withOrganization(user);
}

/** For route handlers: the signed-in user and current organization, or null (no redirect). */
export async function currentMember() {
  const user = await currentUser();
  if (!user) return null;
  const { organization } = await withOrganization(user);
  return { user, organization };
}
