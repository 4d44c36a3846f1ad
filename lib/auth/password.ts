import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { hashPassword as betterAuthHash, verifyPassword as betterAuthVerify } from "better-auth/crypto";

// Passwords are hashed with better-auth's scrypt (N=16384, r=16, p=1, 64-byte key, a
// random 16-byte salt; stored as "salt:key" in hex). Hashes written before Poolguard used
// better-auth look like "scrypt$N$r$p$salt$key" (base64url, parameters stored with the
// hash): they keep verifying, so nobody has to reset a password after the upgrade.

export const minimumPasswordLength = 12;

export async function hashPassword(password: string): Promise<string> {
  if (password.length < minimumPasswordLength) throw new Error(`passwords must have at least ${minimumPasswordLength} characters`);
  return betterAuthHash(password);
}

/** Whether `stored` is a hash from before better-auth ("scrypt$..."). */
export function isLegacyHash(stored: string): boolean {
  return stored.startsWith("scrypt$");
}

function deriveLegacy(password: string, salt: Buffer, n: number, r: number, p: number, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, keyLength, { N: n, r, p, maxmem: 128 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

async function verifyLegacy(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6) return false;
  const [, n, r, p, salt, expected] = parts;
  const expectedKey = Buffer.from(expected, "base64url");
  // Refuse parameters no hash of ours ever had (a tampered row must not cost minutes of CPU).
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  if (!Number.isInteger(N) || N < 2 || N > 1 << 20 || !Number.isInteger(R) || R < 1 || R > 32 || !Number.isInteger(P) || P < 1 || P > 16 || expectedKey.length < 16) return false;
  const key = await deriveLegacy(password, Buffer.from(salt, "base64url"), N, R, P, expectedKey.length);
  return key.length === expectedKey.length && timingSafeEqual(key, expectedKey);
}

/** Check a password against a stored hash of either format (better-auth's password.verify hook). */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  if (isLegacyHash(stored)) return verifyLegacy(password, stored);
  if (!stored.includes(":")) return false;
  try {
    return await betterAuthVerify({ hash: stored, password });
  } catch {
    return false;
  }
}

/** A random password for the first-run admin: 24 URL-safe characters. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}
