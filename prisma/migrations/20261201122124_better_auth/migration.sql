-- Sign-in moves to better-auth (lib/auth/auth.ts) on the same tables.
-- * Password hashes move from "User"."passwordHash" to the user's "credential" account
--   ("Account"."password"), where better-auth reads them. The old "password" accounts
--   (keyed by email) become "credential" accounts keyed by the user id. Existing hashes
--   keep working (lib/auth/password.ts verifies both formats).
-- * GitHub accounts keep provider "github" and the GitHub user id.
-- * Sessions: better-auth keeps its own session token, and the old cookies cannot be read
--   by it: existing sessions end (everyone signs in once more).

DELETE FROM "AuthSession";

-- CreateTable
CREATE TABLE "Verification" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Account" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "providerAccountId" TEXT NOT NULL,
    "password" TEXT,
    "accessToken" TEXT,
    "refreshToken" TEXT,
    "idToken" TEXT,
    "accessTokenExpiresAt" DATETIME,
    "refreshTokenExpiresAt" DATETIME,
    "scope" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Account" ("createdAt", "updatedAt", "id", "provider", "providerAccountId", "userId", "password")
SELECT a."createdAt", a."createdAt", a."id",
       CASE WHEN a."provider" = 'password' THEN 'credential' ELSE a."provider" END,
       CASE WHEN a."provider" = 'password' THEN a."userId" ELSE a."providerAccountId" END,
       a."userId",
       CASE WHEN a."provider" = 'password' THEN u."passwordHash" ELSE NULL END
FROM "Account" a LEFT JOIN "User" u ON u."id" = a."userId";
INSERT INTO "new_Account" ("id", "provider", "providerAccountId", "userId", "password")
SELECT 'pw_' || u."id", 'credential', u."id", u."id", u."passwordHash"
FROM "User" u
WHERE u."passwordHash" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "new_Account" a WHERE a."userId" = u."id" AND a."provider" = 'credential');
DROP TABLE "Account";
ALTER TABLE "new_Account" RENAME TO "Account";
CREATE INDEX "Account_userId_idx" ON "Account"("userId");
CREATE UNIQUE INDEX "Account_provider_providerAccountId_key" ON "Account"("provider", "providerAccountId");
CREATE TABLE "new_AuthSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "ipAddress" TEXT,
    "userAgent" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AuthSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_AuthSession" ("createdAt", "expiresAt", "id", "userAgent", "userId") SELECT "createdAt", "expiresAt", "id", "userAgent", "userId" FROM "AuthSession";
DROP TABLE "AuthSession";
ALTER TABLE "new_AuthSession" RENAME TO "AuthSession";
CREATE UNIQUE INDEX "AuthSession_token_key" ON "AuthSession"("token");
CREATE INDEX "AuthSession_userId_idx" ON "AuthSession"("userId");
CREATE TABLE "new_User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "image" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "lastSignInAt" DATETIME
);
INSERT INTO "new_User" ("createdAt", "email", "id", "lastSignInAt", "name", "updatedAt") SELECT "createdAt", "email", "id", "lastSignInAt", "name", "updatedAt" FROM "User";
DROP TABLE "User";
ALTER TABLE "new_User" RENAME TO "User";
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Verification_identifier_idx" ON "Verification"("identifier");
