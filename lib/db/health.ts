import { type DatabaseProvider, databaseUrl, db, providerOf, redactUrl } from "./client.ts";

export function getDatabaseInfo(): { provider: DatabaseProvider; url: string } {
  const url = databaseUrl();
  return { provider: providerOf(url), url: redactUrl(url) };
}

export async function checkDatabase(): Promise<{ ok: boolean; provider: DatabaseProvider; latencyMs?: number; error?: string }> {
  const { provider } = getDatabaseInfo();
  const started = performance.now();
  try {
    await db().$queryRawUnsafe("SELECT 1");
    // The migrations table tells us the schema was applied, not just that we can connect.
    await db().user.count();
    return { ok: true, provider, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, provider, error: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  }
}
