import type { BetterAuthPlugin } from "better-auth";
import { createAuthEndpoint } from "better-auth/api";
import { setSessionCookie } from "better-auth/cookies";
import * as z from "zod";
import { consumeSignInToken } from "../db/users.ts";
import { hashToken } from "./tokens.ts";

// One-time sign-in links (the first admin's, invitations, `poolguard admin create-user`)
// as a better-auth endpoint: the token is consumed atomically in lib/db (two concurrent
// uses cannot both win), then better-auth starts an ordinary session. /sign-in/link
// forwards here, so printed links keep their form.

export const oneTimeLinkPath = "/sign-in/one-time-link";
export const linkErrorPath = "/sign-in?error=link";
export const afterSignInPath = "/repositories";

export function oneTimeLink() {
  return {
    id: "poolguard-one-time-link",
    endpoints: {
      signInWithOneTimeLink: createAuthEndpoint(oneTimeLinkPath, { method: "GET", query: z.object({ token: z.string().max(200).optional() }) }, async (ctx) => {
        const token = ctx.query?.token ?? "";
        const userId = token ? await consumeSignInToken(hashToken(token)) : null;
        const user = userId ? await ctx.context.internalAdapter.findUserById(userId) : null;
        if (!user) throw ctx.redirect(linkErrorPath);
        const session = await ctx.context.internalAdapter.createSession(user.id);
        await setSessionCookie(ctx, { session, user });
        throw ctx.redirect(afterSignInPath);
      }),
    },
  } satisfies BetterAuthPlugin;
}
