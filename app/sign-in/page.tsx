import { redirect } from "next/navigation";
import { githubOAuthConfigured } from "../../lib/auth/github-oauth.ts";
import { currentUser } from "../../lib/auth/session.ts";
import { SignInForm } from "./sign-in-form.tsx";

export const dynamic = "force-dynamic";

const githubErrors: Record<string, string> = {
  github: "Signing in with GitHub did not work. Try again, or sign in with your email and password.",
  "github-state": "That GitHub sign-in expired or did not start here. Try again.",
  "github-denied": "GitHub sign-in was cancelled.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  if (await currentUser()) redirect("/repositories");
  const { error } = await searchParams;
  return (
    <main id="main" className="flex min-h-screen items-center justify-center px-4">
      <div className="card w-full max-w-sm p-6 shadow-sm sm:p-8">
        <h1 className="text-2xl font-semibold">Sign in to Poolguard</h1>
        <p className="muted mt-1 mb-6 text-sm">
          The first start printed the admin&apos;s email, password and a one-time link in the server console.
        </p>
        {error === "link" ? (
          <p role="alert" className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-300">
            That sign-in link is invalid, expired or already used. Restart the server for a fresh link.
          </p>
        ) : null}
        {error?.startsWith("github") ? (
          <p role="alert" className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-300">
            {githubErrors[error] ?? githubErrors.github}
          </p>
        ) : null}
        <SignInForm />
        {githubOAuthConfigured() ? (
          <div className="mt-6 border-t border-slate-200 pt-6 dark:border-slate-800">
            {/* A plain link: the route sets the state cookie and sends the browser to GitHub. */}
            <a href="/api/auth/github" className="button-secondary block w-full text-center">
              Sign in with GitHub
            </a>
          </div>
        ) : null}
      </div>
    </main>
  );
}
