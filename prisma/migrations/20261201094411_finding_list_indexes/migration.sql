-- CreateIndex
CREATE INDEX "Finding_repositoryId_status_severity_path_line_idx" ON "Finding"("repositoryId", "status", "severity", "path", "line");

-- CreateIndex
CREATE INDEX "Finding_repositoryId_status_path_line_idx" ON "Finding"("repositoryId", "status", "path", "line");
