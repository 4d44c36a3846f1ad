// lib/db: the only module that touches Prisma. Functions take and return plain data.
export { type DatabaseProvider, databaseUrl, disconnectDatabase, providerOf } from "./client.ts";
export * from "./audit.ts";
export * from "./findings.ts";
export * from "./fix-pull-requests.ts";
export * from "./health.ts";
export * from "./organizations.ts";
export * from "./repositories.ts";
export * from "./scans.ts";
export * from "./types.ts";
export * from "./users.ts";
export * from "./webhook-deliveries.ts";
export * from "./api-tokens.ts";
export * from "./schedules.ts";
export * from "./findings-view.ts";
export * from "./repository-pages.ts";
export * from "./dashboard.ts";
export * from "./members.ts";
export * from "./workers.ts";
