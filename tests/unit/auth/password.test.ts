import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "../../../lib/auth/password.ts";
import { generateToken, hashToken, sessionCookieOptions } from "../../../lib/auth/tokens.ts";

describe("password hashing", () => {
  it("verifies the right password and refuses others", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hash).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  it("salts every hash", async () => {
    const a = await hashPassword("the same password");
    const b = await hashPassword("the same password");
    expect(a).not.toBe(b);
  });

  it("refuses short passwords and unknown hash formats", async () => {
    await expect(hashPassword("short")).rejects.toThrow(/12 characters/);
    expect(await verifyPassword("anything at all", "md5$abc")).toBe(false);
    expect(await verifyPassword("anything at all", null)).toBe(false);
  });

  it("generates random first-run passwords long enough to hash", async () => {
    const password = generatePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(password);
    expect(await verifyPassword(password, await hashPassword(password))).toBe(true);
  });
});

describe("session tokens", () => {
  it("are random and stored only as SHA-256", () => {
    const token = generateToken();
    expect(token.length).toBeGreaterThanOrEqual(43);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(generateToken())).not.toBe(hashToken(token));
  });

  it("use httpOnly, SameSite=Lax cookies, Secure only over https", () => {
    const expires = new Date(0);
    expect(sessionCookieOptions(false, expires)).toEqual({ httpOnly: true, sameSite: "lax", secure: false, path: "/", expires });
    expect(sessionCookieOptions(true, expires).secure).toBe(true);
  });
});
