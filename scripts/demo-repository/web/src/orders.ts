import { PrismaClient } from "@prisma/client";
import { pool } from "./db";

export async function listOrders(customerId: string) {
  const client = await pool.connect();
  const result = await client.query("SELECT * FROM orders WHERE customer_id = $1", [customerId]);
  client.release();
  return result.rows;
}

export async function countCustomers() {
  const prisma = new PrismaClient();
  return prisma.customer.count();
}
