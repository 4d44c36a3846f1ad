-- AlterTable
ALTER TABLE "Finding" ADD COLUMN     "context" TEXT,
ADD COLUMN     "contextStartLine" INTEGER;

-- AlterTable
ALTER TABLE "RepositorySettings" ADD COLUMN     "fixPrGrouping" TEXT NOT NULL DEFAULT 'rule';
