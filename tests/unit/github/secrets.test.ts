import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, loadSecretKey, parseSecretKey, SecretKeyError } from "../../../lib/crypto/secrets.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("secrets at rest", () => {
  it("round-trips with AES-256-GCM and a fresh IV each time", () => {
    const key = randomBytes(32);
    const token = `ghs_${"x".repeat(90)}`;
    const a = encryptSecret(token, key, "github-token");
    const b = encryptSecret(token, key, "github-token");
    expect(a).not.toBe(b);
    expect(a).not.toContain(token);
    expect(decryptSecret(a, key, "github-token")).toBe(token);
  });

  it("refuses a wrong key, a different context and altered ciphertext", () => {
    const key = randomBytes(32);
    const stored = encryptSecret("secret", key, "github-token");
    expect(() => decryptSecret(stored, randomBytes(32), "github-token")).toThrow(SecretKeyError);
    expect(() => decryptSecret(stored, key, "oauth-token")).toThrow(SecretKeyError);
    const parts = stored.split(":");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => decryptSecret(parts.join(":"), key, "github-token")).toThrow(/altered/);
  });

  it("takes POOLGUARD_SECRET_KEY as hex or base64, and rejects anything else", () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString("hex")).equals(key)).toBe(true);
    expect(parseSecretKey(key.toString("base64")).equals(key)).toBe(true);
    expect(() => parseSecretKey("too-short")).toThrow(/32 bytes/);
    expect(loadSecretKey({ env: { POOLGUARD_SECRET_KEY: key.toString("hex") } }).equals(key)).toBe(true);
  });

  it("generates data/secret-key on first start when unset, with a warning, and reuses it", () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-key-"));
    dirs.push(dir);
    const keyFile = join(dir, "data", "secret-key");
    const warnings: string[] = [];
    const first = loadSecretKey({ env: {}, keyFile, warn: (m) => warnings.push(m) });
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("POOLGUARD_SECRET_KEY is not set");
    const second = loadSecretKey({ env: {}, keyFile, warn: (m) => warnings.push(m) });
    expect(second.equals(first)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(readFileSync(keyFile, "utf8").trim()).toBe(first.toString("hex"));
  });
});
