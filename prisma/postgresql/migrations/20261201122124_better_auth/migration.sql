-- Sign-in moves to better-auth (lib/auth/auth.ts) on the same tables.
-- * Password hashes move from "User"."passwordHash" to the user's "credential" account
--   ("Account"."password"), where better-auth reads them. The old "password" accounts
--   (keyed by email) become "credential" accounts keyed by the user id. Existing hashes
--   keep working (lib/auth/password.ts verifies both formats).
-- * GitHub accounts keep provider "github" and the GitHub user id.
-- * Sessions: better-auth keeps its own session token, and the old cookies cannot be read
--   by it: existing sessions end (everyone signs in once more).

DELETE FROM "AuthSession";

-- DropIndex
DROP INDEX "AuthSession_tokenHash_key";

-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "accessToken" TEXT,
ADD COLUMN     "accessTokenExpiresAt" TIMESTAMP(3),
ADD COLUMN     "idToken" TEXT,
ADD COLUMN     "password" TEXT,
ADD COLUMN     "refreshToken" TEXT,
ADD COLUMN     "refreshTokenExpiresAt" TIMESTAMP(3),
ADD COLUMN     "scope" TEXT,
ADD COLUMN     "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Password hashes move to the users' "credential" accounts (see the comment at the top).
UPDATE "Account" AS a
SET "provider" = 'credential', "providerAccountId" = a."userId", "password" = u."passwordHash"
FROM "User" AS u
WHERE u."id" = a."userId" AND a."provider" = 'password';
INSERT INTO "Account" ("id", "provider", "providerAccountId", "userId", "password")
SELECT 'pw_' || u."id", 'credential', u."id", u."id", u."passwordHash"
FROM "User" AS u
WHERE u."passwordHash" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "Account" AS a WHERE a."userId" = u."id" AND a."provider" = 'credential');

-- AlterTable
ALTER TABLE "AuthSession" DROP COLUMN "tokenHash",
ADD COLUMN     "ipAddress" TEXT,
ADD COLUMN     "token" TEXT NOT NULL,
ADD COLUMN     "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "User" DROP COLUMN "passwordHash",
ADD COLUMN     "emailVerified" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "image" TEXT;

-- CreateTable
CREATE TABLE "Verification" (
    "id" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Verification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Verification_identifier_idx" ON "Verification"("identifier");

-- CreateIndex
CREATE UNIQUE INDEX "AuthSession_token_key" ON "AuthSession"("token");
