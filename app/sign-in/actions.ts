"use server";

import { isAPIError } from "better-auth/api";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { auth } from "../../lib/auth/auth.ts";

export type SignInState = { error: string | null; email?: string };

// The form's server action signs in through better-auth (the same endpoint as
// POST /api/auth/sign-in/email, with the same per-email and per-address limits);
// better-auth's cookie reaches the browser through next/headers. A failed attempt keeps
// the email in the form.
export async function signIn(_previous: SignInState, form: FormData): Promise<SignInState> {
  const email = String(form.get("email") ?? "").trim();
  const password = String(form.get("password") ?? "");
  if (!email || !password) return { error: "Enter your email and password.", email };
  try {
    await auth().api.signInEmail({ body: { email, password }, headers: await headers() });
  } catch (error) {
    if (!isAPIError(error)) throw error;
    if (error.statusCode === 429) return { error: error.message, email };
    // Same message whether the user exists, has no password or typed it wrong.
    if (error.statusCode === 400 || error.statusCode === 401 || error.statusCode === 403) return { error: "Wrong email or password.", email };
    throw error;
  }
  redirect("/repositories");
}
