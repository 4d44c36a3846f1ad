import { prismaAdapter } from "@better-auth/prisma-adapter";
import { databaseUrl, db, providerOf } from "./client.ts";

// better-auth's database: its Prisma adapter on our one Prisma client (lib/db is the only
// module that touches Prisma). The client is looked up on every call rather than captured
// once, so the adapter follows DATABASE_URL the way db() does (tests switch databases).
const lazyClient = new Proxy(
  {},
  {
    get(_target, key) {
      const client = db() as unknown as Record<PropertyKey, unknown>;
      const value = client[key];
      return typeof value === "function" ? value.bind(client) : value;
    },
  },
);

/**
 * better-auth's user, session, account and verification models on our tables:
 * User, AuthSession, Account (provider/providerAccountId hold better-auth's
 * providerId/accountId) and Verification. Ids come from the schema's cuid() default.
 */
export const authModels = {
  user: { modelName: "user" },
  session: { modelName: "authSession" },
  account: { modelName: "account", fields: { providerId: "provider", accountId: "providerAccountId" } },
  verification: { modelName: "verification" },
} as const;

export function authDatabaseAdapter() {
  const provider = providerOf(databaseUrl());
  return prismaAdapter(lazyClient, { provider: provider === "sqlite" ? "sqlite" : "postgresql", transaction: false });
}
