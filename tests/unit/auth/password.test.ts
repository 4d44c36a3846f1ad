import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, isLegacyHash, verifyPassword } from "../../../lib/auth/password.ts";
import { generateToken, hashToken } from "../../../lib/auth/tokens.ts";

// Hashes written by Poolguard before sign-in moved to better-auth (scrypt N=16384, r=8,
// p=1, NFKC-normalised, base64url): they must keep verifying after the upgrade.
const legacy = {
  plain: {
    password: "a password from before the upgrade",
    hash: "scrypt$16384$8$1$03av7_yg2yzMuN2aTWi25w$g9CUAhQhKVTQXH4foYI_BpCIGTZten5aka1cBC0Tmq6UJ3JEdS1EztugmP7lfePqClVcTZt_1fvH1Q0n_qCgxw",
  },
  unicode: {
    password: "ünïcödé pässwörd 1234",
    hash: "scrypt$16384$8$1$nhcA825ZQcOflvbWPTbITw$kRJM5geoY8hwAuu_ennbX_iFX-habduOG1dMUee5PgcMyNJo3FMvWeGhSoHcUC71OG4KzD4peFI1MNE0uFRN9g",
  },
};

describe("password hashing", () => {
  it("hashes with better-auth's scrypt format and verifies the right password only", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^[0-9a-f]{32}:[0-9a-f]{128}$/);
    expect(isLegacyHash(hash)).toBe(false);
    expect(hash).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  it("still verifies hashes written before the upgrade", async () => {
    expect(isLegacyHash(legacy.plain.hash)).toBe(true);
    expect(await verifyPassword(legacy.plain.password, legacy.plain.hash)).toBe(true);
    expect(await verifyPassword(`${legacy.plain.password}!`, legacy.plain.hash)).toBe(false);
    expect(await verifyPassword(legacy.unicode.password, legacy.unicode.hash)).toBe(true);
    // The old hashes normalised to NFKC: the decomposed spelling of the same text matches.
    expect(await verifyPassword(legacy.unicode.password.normalize("NFD"), legacy.unicode.hash)).toBe(true);
    expect(await verifyPassword(legacy.unicode.password, legacy.plain.hash)).toBe(false);
  });

  it("refuses tampered legacy hashes instead of running scrypt with their parameters", async () => {
    const [, , r, p, salt, key] = legacy.plain.hash.split("$");
    expect(await verifyPassword(legacy.plain.password, `scrypt$${2 ** 24}$${r}$${p}$${salt}$${key}`)).toBe(false);
    expect(await verifyPassword(legacy.plain.password, `scrypt$16384$${r}$${p}$${salt}$${key.slice(0, 8)}`)).toBe(false);
    expect(await verifyPassword(legacy.plain.password, "scrypt$16384$8$1$only-five-parts")).toBe(false);
  });

  it("salts every hash", async () => {
    const a = await hashPassword("the same password");
    const b = await hashPassword("the same password");
    expect(a).not.toBe(b);
  });

  it("refuses short passwords and unknown hash formats", async () => {
    await expect(hashPassword("short")).rejects.toThrow(/12 characters/);
    expect(await verifyPassword("anything at all", "md5$abc")).toBe(false);
    expect(await verifyPassword("anything at all", "zz:zz")).toBe(false);
    expect(await verifyPassword("anything at all", null)).toBe(false);
  });

  it("generates random first-run passwords long enough to hash", async () => {
    const password = generatePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(password);
    expect(await verifyPassword(password, await hashPassword(password))).toBe(true);
  });
});

describe("link and API tokens", () => {
  it("are random and stored only as SHA-256", () => {
    const token = generateToken();
    expect(token.length).toBeGreaterThanOrEqual(43);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(generateToken())).not.toBe(hashToken(token));
  });
});
