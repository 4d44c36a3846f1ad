-- AlterTable
ALTER TABLE "Repository" ADD COLUMN     "archived" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE INDEX "Scan_status_idx" ON "Scan"("status");
