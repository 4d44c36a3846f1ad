-- AlterTable
ALTER TABLE "RepositorySettings" ADD COLUMN "lastRunAt" DATETIME;
ALTER TABLE "RepositorySettings" ADD COLUMN "nextRunAt" DATETIME;

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "ApiToken_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Scan" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "repositoryId" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "commitSha" TEXT,
    "branch" TEXT,
    "pullRequestNumber" INTEGER,
    "filesDone" INTEGER NOT NULL DEFAULT 0,
    "filesTotal" INTEGER NOT NULL DEFAULT 0,
    "filesScanned" INTEGER NOT NULL DEFAULT 0,
    "findingsCount" INTEGER NOT NULL DEFAULT 0,
    "countsByRule" TEXT NOT NULL DEFAULT '{}',
    "countsBySeverity" TEXT NOT NULL DEFAULT '{}',
    "durationMs" INTEGER,
    "error" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "leaseOwner" TEXT,
    "leaseExpiresAt" DATETIME,
    "cancelRequestedAt" DATETIME,
    "runAfter" DATETIME,
    "queueKey" TEXT,
    "runningKey" TEXT,
    "idempotencyKey" TEXT,
    CONSTRAINT "Scan_repositoryId_fkey" FOREIGN KEY ("repositoryId") REFERENCES "Repository" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Scan" ("branch", "commitSha", "countsByRule", "countsBySeverity", "createdAt", "durationMs", "error", "filesDone", "filesScanned", "filesTotal", "findingsCount", "finishedAt", "id", "pullRequestNumber", "repositoryId", "startedAt", "status", "trigger") SELECT "branch", "commitSha", "countsByRule", "countsBySeverity", "createdAt", "durationMs", "error", "filesDone", "filesScanned", "filesTotal", "findingsCount", "finishedAt", "id", "pullRequestNumber", "repositoryId", "startedAt", "status", "trigger" FROM "Scan";
DROP TABLE "Scan";
ALTER TABLE "new_Scan" RENAME TO "Scan";
CREATE UNIQUE INDEX "Scan_queueKey_key" ON "Scan"("queueKey");
CREATE UNIQUE INDEX "Scan_runningKey_key" ON "Scan"("runningKey");
CREATE UNIQUE INDEX "Scan_idempotencyKey_key" ON "Scan"("idempotencyKey");
CREATE INDEX "Scan_repositoryId_createdAt_idx" ON "Scan"("repositoryId", "createdAt");
CREATE INDEX "Scan_status_idx" ON "Scan"("status");
CREATE INDEX "Scan_status_leaseExpiresAt_idx" ON "Scan"("status", "leaseExpiresAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_organizationId_idx" ON "ApiToken"("organizationId");
