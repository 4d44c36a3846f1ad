import type { ReactNode } from "react";
import { requireUser } from "../../lib/auth/session.ts";
import { signOut } from "./actions.ts";
import { NavLink } from "./nav-link.tsx";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const { user, organization } = await requireUser();
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6">
          <span className="text-lg font-semibold tracking-tight">
            <span aria-hidden="true">◉ </span>Poolguard
          </span>
          <div className="ml-auto flex min-w-0 items-center gap-3 text-sm text-slate-600 sm:order-last dark:text-slate-400">
            <span className="hidden truncate md:inline" title={user.email}>
              {organization?.name ?? "No organization"} · {user.email}
            </span>
            <form action={signOut}>
              <button type="submit" className="button-secondary px-2 py-1">
                Sign out
              </button>
            </form>
          </div>
          <nav aria-label="Main" className="-mx-1 flex w-full gap-1 overflow-x-auto sm:w-auto">
            <NavLink href="/repositories">Repositories</NavLink>
            <NavLink href="/findings">Findings</NavLink>
            <NavLink href="/rules">Rules</NavLink>
            <NavLink href="/settings">Settings</NavLink>
          </nav>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
        {children}
      </main>
    </div>
  );
}
