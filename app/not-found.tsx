import Link from "next/link";

export default function NotFound() {
  return (
    <main id="main" className="mx-auto flex min-h-[70vh] max-w-lg flex-col items-center justify-center px-6 text-center">
      <p className="font-mono text-sm text-slate-500 dark:text-slate-400">404</p>
      <h1 className="mt-2 text-2xl font-semibold">This page does not exist</h1>
      <p className="muted mt-2 text-sm">The link may be old, or the item may belong to an organization you are not a member of.</p>
      <nav aria-label="Go to" className="mt-6 flex flex-wrap justify-center gap-3">
        <Link href="/repositories" className="button-primary">
          Repositories
        </Link>
        <Link href="/findings" className="button-secondary">
          Findings
        </Link>
        <Link href="/rules" className="button-secondary">
          Rules
        </Link>
      </nav>
    </main>
  );
}
