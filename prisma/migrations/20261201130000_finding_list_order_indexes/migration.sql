-- DropIndex
DROP INDEX "Finding_repositoryId_status_path_line_idx";

-- DropIndex
DROP INDEX "Finding_repositoryId_status_severity_path_line_idx";

-- CreateIndex
CREATE INDEX "Finding_repositoryId_status_severity_path_line_id_idx" ON "Finding"("repositoryId", "status", "severity", "path", "line", "id");

-- CreateIndex
CREATE INDEX "Finding_repositoryId_status_path_line_id_idx" ON "Finding"("repositoryId", "status", "path", "line", "id");

-- CreateIndex
CREATE INDEX "Finding_repositoryId_status_createdAt_id_idx" ON "Finding"("repositoryId", "status", "createdAt", "id");
