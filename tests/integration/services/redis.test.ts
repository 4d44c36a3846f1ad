import net from "node:net";
import { describe, expect, it } from "vitest";

// The test runner starts a throwaway Redis on 127.0.0.1 and passes REDIS_URL; the job
// queue (BullMQ) builds on it. This suite proves the service is really there: a
// missing REDIS_URL is a failure, never a skip.
function redisCommand(url: string, ...args: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(payload));
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error("redis timed out"));
    });
    socket.once("data", (data) => {
      socket.end();
      resolve(data.toString());
    });
    socket.once("error", reject);
  });
}

describe("redis service for queue workers", () => {
  const url = process.env.REDIS_URL;

  it("is provided on loopback by the test runner", () => {
    expect(url, "REDIS_URL must be set by scripts/test.mjs").toBeTruthy();
    expect(new URL(url ?? "redis://invalid").hostname).toBe("127.0.0.1");
  });

  it("stores and returns a value", async () => {
    const key = `poolguard:test:${process.pid}:${Date.now()}`;
    expect(await redisCommand(url ?? "", "SET", key, "ok")).toBe("+OK\r\n");
    expect(await redisCommand(url ?? "", "GET", key)).toBe("$2\r\nok\r\n");
    expect(await redisCommand(url ?? "", "DEL", key)).toBe(":1\r\n");
  });
});
