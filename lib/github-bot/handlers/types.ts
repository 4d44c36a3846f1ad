import type { BotContext } from "../context.ts";

// biome-ignore lint/suspicious/noExplicitAny: webhook payloads are read field by field, each where it is used
export type Payload = Record<string, any>;
export type HandlerResult = { kind: string; [key: string]: unknown };
export type Handler = (payload: Payload, ctx: BotContext) => Promise<HandlerResult>;

export function repoOf(payload: Payload): { owner: string; repo: string; fullName: string; githubId: number } {
  const repository = payload.repository as { name: string; full_name: string; id: number; owner: { login: string } };
  return { owner: repository.owner.login, repo: repository.name, fullName: repository.full_name, githubId: repository.id };
}

export function installationOf(payload: Payload): number {
  const id = payload.installation?.id;
  if (typeof id !== "number") throw new Error("the event carries no installation: is the App installed on this repository?");
  return id;
}
