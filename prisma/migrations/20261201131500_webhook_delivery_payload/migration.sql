-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN "payload" TEXT;
ALTER TABLE "WebhookDelivery" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "WebhookDelivery" ADD COLUMN "leaseOwner" TEXT;
ALTER TABLE "WebhookDelivery" ADD COLUMN "leaseExpiresAt" DATETIME;

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_receivedAt_idx" ON "WebhookDelivery"("status", "receivedAt");
