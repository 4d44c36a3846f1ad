-- AlterTable
ALTER TABLE "FixPullRequest" ADD COLUMN "findingsFingerprint" TEXT;
ALTER TABLE "FixPullRequest" ADD COLUMN "groupKey" TEXT;
ALTER TABLE "FixPullRequest" ADD COLUMN "stoppedReason" TEXT;
ALTER TABLE "FixPullRequest" ADD COLUMN "url" TEXT;
