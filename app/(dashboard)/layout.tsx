import type { ReactNode } from "react";
import { requireUser } from "../../lib/auth/session.ts";
import { signOut } from "./actions.ts";
import { NavLink } from "./nav-link.tsx";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const { user, organization } = await requireUser();
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center gap-6 px-6 py-3">
          <span className="text-lg font-semibold tracking-tight">
            <span aria-hidden="true">◉ </span>Poolguard
          </span>
          <nav aria-label="Main" className="flex gap-1">
            <NavLink href="/repositories">Repositories</NavLink>
            <NavLink href="/findings">Findings</NavLink>
            <NavLink href="/rules">Rules</NavLink>
            <NavLink href="/settings">Settings</NavLink>
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm text-slate-600">
            <span>
              {organization?.name ?? "No organization"} · {user.email}
            </span>
            <form action={signOut}>
              <button type="submit" className="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100">
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
    </div>
  );
}
