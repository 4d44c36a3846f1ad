"use server";

import { redirect } from "next/navigation";
import { verifyPassword } from "../../lib/auth/password.ts";
import { startSession } from "../../lib/auth/session.ts";
import { findUserByEmail } from "../../lib/db/index.ts";

export type SignInState = { error: string | null; email?: string };

export async function signIn(_previous: SignInState, form: FormData): Promise<SignInState> {
  const email = String(form.get("email") ?? "").trim();
  const password = String(form.get("password") ?? "");
  if (!email || !password) return { error: "Enter your email and password.", email };
  const user = await findUserByEmail(email);
  // Same message (and a hash computation either way) whether the user exists or not.
  const valid = await verifyPassword(password, user?.passwordHash ?? "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AA");
  if (!user || !valid) return { error: "Wrong email or password.", email };
  await startSession(user.id);
  redirect("/repositories");
}
