import { createHmac, timingSafeEqual } from "node:crypto";

// GitHub signs the raw body: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret, body).
// The comparison is constant time; anything malformed is simply "not valid".

export function signatureFor(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function verifySignature(secret: string | undefined, body: string | Uint8Array, header: string | null | undefined): boolean {
  if (!secret || !header || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const expected = Buffer.from(signatureFor(secret, body), "utf8");
  const given = Buffer.from(header.toLowerCase(), "utf8");
  return expected.length === given.length && timingSafeEqual(expected, given);
}
