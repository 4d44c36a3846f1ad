import Link from "next/link";

export const dynamic = "force-dynamic";

// Where a GitHub account that no Poolguard user matches lands: Poolguard does not create
// users or memberships on its own; an admin invites people.
export default async function NotInvitedPage({ searchParams }: { searchParams: Promise<{ login?: string }> }) {
  const { login } = await searchParams;
  return (
    <main id="main" className="flex min-h-screen items-center justify-center px-4">
      <div className="card w-full max-w-md p-6 shadow-sm sm:p-8">
        <h1 className="text-2xl font-semibold">Ask an admin to invite you</h1>
        <p className="mt-3 text-sm">
          {login ? (
            <>
              GitHub signed you in as <strong className="font-mono">{login}</strong>, but no one has invited that account to Poolguard yet.
            </>
          ) : (
            "No one has invited your GitHub account to Poolguard yet."
          )}
        </p>
        <p className="muted mt-2 text-sm">
          Ask an admin of your organization to invite you with an email address your GitHub account has verified. Then sign in with GitHub again.
        </p>
        <Link href="/sign-in" className="button-secondary mt-6 inline-block">
          Back to sign-in
        </Link>
      </div>
    </main>
  );
}
