"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { verifyPassword } from "../../lib/auth/password.ts";
import { startSession } from "../../lib/auth/session.ts";
import { findUserByEmail, normalizeEmail } from "../../lib/db/index.ts";
import { clientAddress, signInLimits } from "../../lib/security/rate-limit.ts";

export type SignInState = { error: string | null; email?: string };

export async function signIn(_previous: SignInState, form: FormData): Promise<SignInState> {
  const email = String(form.get("email") ?? "").trim();
  const password = String(form.get("password") ?? "");
  if (!email || !password) return { error: "Enter your email and password.", email };
  // Failed attempts are limited per email and per client address (brute force, credential stuffing).
  const emailKey = normalizeEmail(email);
  const address = clientAddress(await headers());
  const byEmail = signInLimits.perEmail.take(emailKey);
  const byAddress = signInLimits.perAddress.take(address);
  if (!byEmail.allowed || !byAddress.allowed) {
    const minutes = Math.ceil(Math.max(byEmail.retryAfterSeconds, byAddress.retryAfterSeconds) / 60);
    return { error: `Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`, email };
  }
  const user = await findUserByEmail(email);
  // Same message (and a hash computation either way) whether the user exists or not.
  const valid = await verifyPassword(password, user?.passwordHash ?? "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AA");
  if (!user || !valid) return { error: "Wrong email or password.", email };
  signInLimits.perEmail.reset(emailKey);
  await startSession(user.id);
  redirect("/repositories");
}
