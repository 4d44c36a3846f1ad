import { receiveWebhook } from "../../../../lib/github-bot/webhook.ts";

// GitHub App webhooks: verified, recorded once per delivery, queued; see lib/github-bot.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  return receiveWebhook(request);
}
