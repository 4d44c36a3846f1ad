"use client";

export default function DashboardError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="card px-6 py-10 text-center">
      <h1 className="text-lg font-semibold">Something went wrong loading this page</h1>
      <p className="muted mt-2 text-sm">
        The error was logged{error.digest ? ` (reference ${error.digest})` : ""}. Try again; if it keeps happening, check the server log.
      </p>
      <button type="button" onClick={reset} className="button-primary mt-4">
        Try again
      </button>
    </div>
  );
}
