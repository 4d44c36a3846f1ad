// Encryption at rest for secrets kept in the database (GitHub tokens, App keys).
// AES-256-GCM with a random 12-byte IV per value; the stored text is
// "v1:<iv>:<tag>:<ciphertext>" (base64url). The key comes from POOLGUARD_SECRET_KEY
// (32 bytes as 64 hex characters or base64); when unset, one is generated into
// data/secret-key on first use, with a warning: lose that file and the stored
// secrets cannot be read back.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Environment variables (process.env or a plain object in tests). */
export type Env = Record<string, string | undefined>;

export class SecretKeyError extends Error {}

export type SecretKeyOptions = {
  env?: Env;
  /** Where a generated key is kept (default: data/secret-key under the working directory). */
  keyFile?: string;
  warn?: (message: string) => void;
};

export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  const decoded = Buffer.from(trimmed, "base64");
  if (decoded.length === 32 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return decoded;
  throw new SecretKeyError("POOLGUARD_SECRET_KEY must be 32 bytes written as 64 hex characters or as base64 (generate one with `openssl rand -hex 32`)");
}

/** The encryption key: POOLGUARD_SECRET_KEY, else data/secret-key (created when missing). */
export function loadSecretKey(options: SecretKeyOptions = {}): Buffer {
  const env = options.env ?? process.env;
  if (env.POOLGUARD_SECRET_KEY) return parseSecretKey(env.POOLGUARD_SECRET_KEY);
  const file = resolve(options.keyFile ?? join(process.cwd(), "data", "secret-key"));
  if (existsSync(file)) return parseSecretKey(readFileSync(file, "utf8"));
  const key = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  (options.warn ?? ((m: string) => console.warn(m)))(
    `POOLGUARD_SECRET_KEY is not set: generated a new key in ${file}. Back it up or set POOLGUARD_SECRET_KEY; without it, stored GitHub tokens cannot be decrypted.`,
  );
  return key;
}

/**
 * Encrypt `plaintext`. `context` (e.g. "github-installation-token") is bound as
 * associated data, so a value copied into another column does not decrypt there.
 */
export function encryptSecret(plaintext: string, key: Buffer, context = ""): string {
  if (key.length !== 32) throw new SecretKeyError("the secret key must be 32 bytes");
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v1", iv.toString("base64url"), tag.toString("base64url"), ciphertext.toString("base64url")].join(":");
}

export function decryptSecret(stored: string, key: Buffer, context = ""): string {
  const [version, iv, tag, ciphertext] = stored.split(":");
  if (version !== "v1" || !iv || !tag || ciphertext === undefined) throw new SecretKeyError("not an encrypted Poolguard secret");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(context, "utf8"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretKeyError("the secret could not be decrypted: wrong POOLGUARD_SECRET_KEY or the value was altered");
  }
}
