-- AlterTable
ALTER TABLE "FixPullRequest" ADD COLUMN     "findingsFingerprint" TEXT,
ADD COLUMN     "groupKey" TEXT,
ADD COLUMN     "stoppedReason" TEXT,
ADD COLUMN     "url" TEXT;
