import { expect, type Page, test } from "@playwright/test";

const email = process.env.POOLGUARD_ADMIN_EMAIL ?? "";
const password = process.env.POOLGUARD_ADMIN_PASSWORD ?? "";

async function signIn(page: Page, withPassword = password) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(withPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.beforeAll(() => {
  expect(email, "POOLGUARD_ADMIN_EMAIL must be set").not.toBe("");
  expect(password, "POOLGUARD_ADMIN_PASSWORD must be set").not.toBe("");
});

test("health endpoint reports the database", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe("ok");
  expect(body.database).toMatchObject({ ok: true, provider: "sqlite" });
  expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
});

test("signed-out visitors are sent to sign in", async ({ page }) => {
  await page.goto("/findings");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole("heading", { name: "Sign in to Poolguard" })).toBeVisible();
});

test("a wrong password is refused with a message", async ({ page }) => {
  await signIn(page, `${password}-wrong`);
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/sign-in$/);
  // The email stays in the form for the next try; the password does not.
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(page.getByLabel("Password")).toHaveValue("");
});

test("scripts sign in with POST /api/auth/sign-in/email and use the session cookie", async ({ page }) => {
  const wrong = await page.request.post("/api/auth/sign-in/email", { data: { email, password: `${password}-wrong` } });
  expect(wrong.status()).toBe(401);
  const response = await page.request.post("/api/auth/sign-in/email", { data: { email, password } });
  expect(response.status()).toBe(200);
  expect((await response.json()).user.email).toBe(email);
  expect(response.headers()["set-cookie"]).toMatch(/poolguard\.session_token=[^;]+;.*HttpOnly/i);
  // The cookie is the browser's session too.
  await page.goto("/findings");
  await expect(page).toHaveURL(/\/findings$/);
  await expect(page.getByRole("heading", { name: "Findings", exact: true, level: 1 })).toBeVisible();
});

test("POST /api/auth/sign-in/email is rate limited per email", async ({ request }) => {
  const target = `nobody-${Date.now().toString(36)}@example.test`;
  for (let i = 0; i < 10; i++) {
    const attempt = await request.post("/api/auth/sign-in/email", { data: { email: target, password: `guess number ${i}` } });
    expect(attempt.status()).toBe(401);
  }
  const limited = await request.post("/api/auth/sign-in/email", { data: { email: target, password: "guess number 10" } });
  expect(limited.status()).toBe(429);
  expect(Number(limited.headers()["retry-after"])).toBeGreaterThan(0);
  expect((await limited.json()).message).toMatch(/Too many sign-in attempts/);
});

test("an unknown sign-in link is refused", async ({ page }) => {
  await page.goto("/sign-in/link?token=not-a-real-token");
  await expect(page).toHaveURL(/\/sign-in\?error=link$/);
  await expect(page.getByRole("main").getByRole("alert")).toContainText("invalid, expired or already used");
});

test("the one-time sign-in link printed at start works exactly once", async ({ page, browser }) => {
  const link = process.env.POOLGUARD_SIGN_IN_LINK ?? "";
  expect(link, "the test runner passes the link the server printed").toMatch(/\/sign-in\/link\?token=/);
  await page.goto(link);
  await expect(page).toHaveURL(/\/repositories$/);
  const other = await browser.newContext();
  const second = await other.newPage();
  await second.goto(link);
  await expect(second).toHaveURL(/\/sign-in\?error=link$/);
  await other.close();
});

test("the admin signs in and sees the dashboard shell with the demo workspace", async ({ page }, testInfo) => {
  await signIn(page);
  await expect(page).toHaveURL(/\/repositories$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Repositories", "Findings", "Rules", "Settings"]) {
    await expect(nav.getByRole("link", { name })).toBeVisible();
  }
  await expect(page.getByRole("link", { name: "demo/sample-app" })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("dashboard-repositories.png"), fullPage: true });

  await nav.getByRole("link", { name: "Findings" }).click();
  await expect(page.getByRole("heading", { name: "Findings", exact: true, level: 1 })).toBeVisible();
  const findings = page.getByRole("list", { name: "Findings" }).getByRole("listitem");
  await expect(findings.first()).toBeVisible();
  for (const rule of ["session-not-closed", "session-used-after-close", "session-dependency-not-closed", "forbidden-import", "manual-aenter"]) {
    await expect(page.locator(`li[data-rule="${rule}"]`).first()).toBeVisible();
  }
  await page.screenshot({ path: testInfo.outputPath("dashboard-findings.png"), fullPage: true });
  if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: "docs/screenshot.png" });

  await nav.getByRole("link", { name: "Rules" }).click();
  for (const rule of ["session-not-closed", "pool-client-not-released", "forbidden-import"]) {
    await expect(page.getByRole("heading", { name: rule, exact: true })).toBeVisible();
  }

  await nav.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("main").getByText(email).first()).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/repositories");
  await expect(page).toHaveURL(/\/sign-in$/);
});
