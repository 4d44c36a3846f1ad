import { expect, type Page, type Request, test } from "@playwright/test";

// The dashboard's changes are Next.js server actions: a form post a page of another site
// makes with the user's cookie (cross-site request forgery) must change nothing. The test
// captures a real server action (creating an API token), replays it byte for byte with the
// browser's own cookie once from another origin (refused, nothing created) and once from
// the app's own origin (accepted: the replay itself works, so the refusal is the check's).

const email = process.env.POOLGUARD_ADMIN_EMAIL ?? "";
const password = process.env.POOLGUARD_ADMIN_PASSWORD ?? "";

async function signIn(page: Page) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/repositories$/);
}

async function tokenRows(page: Page, name: string): Promise<number> {
  await page.goto("/settings");
  return page.getByRole("button", { name: `Revoke ${name}` }).count();
}

test("a server action replayed from another origin changes nothing", async ({ page, baseURL }) => {
  await signIn(page);
  await page.goto("/settings");
  const name = `csrf-${Date.now()}`;
  const captured = page.waitForRequest((r: Request) => r.method() === "POST" && r.headers()["next-action"] !== undefined);
  await page.getByRole("region", { name: "API tokens" }).getByLabel("Name").fill(name);
  await page.getByRole("region", { name: "API tokens" }).getByRole("button", { name: "Create token" }).click();
  const action = await captured;
  await expect(page.getByRole("region", { name: "API tokens" }).getByLabel("Copy this value")).toHaveValue(/^pgt_/);
  expect(await tokenRows(page, name)).toBe(1);

  const headers = await action.allHeaders();
  const replay = (origin: string) =>
    page.request.fetch(action.url(), {
      method: "POST",
      headers: { ...Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(":") && k !== "content-length")), origin },
      data: action.postDataBuffer() ?? undefined,
      maxRedirects: 0,
    });

  const foreign = await replay("https://attacker.example");
  expect(foreign.ok()).toBe(false);
  expect(await tokenRows(page, name)).toBe(1);

  const own = await replay(new URL(baseURL ?? "").origin);
  expect(own.ok()).toBe(true);
  expect(await tokenRows(page, name)).toBe(2);
});
