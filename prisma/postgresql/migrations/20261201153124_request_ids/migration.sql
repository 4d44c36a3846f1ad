-- AlterTable
ALTER TABLE "Scan" ADD COLUMN     "requestId" TEXT;

-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN     "requestId" TEXT;
