"use server";

import { redirect } from "next/navigation";
import { endSession } from "../../lib/auth/session.ts";

export async function signOut() {
  await endSession();
  redirect("/sign-in");
}
