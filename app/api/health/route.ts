import { NextResponse } from "next/server";
import { checkDatabase } from "../../../lib/db/index.ts";
import packageJson from "../../../package.json" with { type: "json" };

export const dynamic = "force-dynamic";

export async function GET() {
  const database = await checkDatabase();
  return NextResponse.json(
    { status: database.ok ? "ok" : "degraded", version: packageJson.version, database },
    { status: database.ok ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}
