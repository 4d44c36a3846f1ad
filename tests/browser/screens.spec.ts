import { expect, type Page, test } from "@playwright/test";

// The dashboard's screens at desktop and phone widths, light and dark: each must fit
// the viewport (no sideways scrolling), and the everyday triage path must work from the
// keyboard-reachable controls: findings -> a finding -> ignore with a reason -> reopen.

const email = process.env.POOLGUARD_ADMIN_EMAIL ?? "";
const password = process.env.POOLGUARD_ADMIN_PASSWORD ?? "";

async function signIn(page: Page) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/repositories$/);
}

/** Reopen anything an earlier run left ignored, so each test starts from the seeded state. */
async function reopenIgnored(page: Page) {
  await page.goto("/findings?status=ignored");
  const rows = page.getByRole("list", { name: "Findings" }).getByRole("listitem");
  const count = await rows.count();
  if (count === 0) return;
  for (let i = 0; i < count; i++) await rows.nth(i).getByRole("checkbox").check();
  await page.getByRole("button", { name: "Reopen selected" }).click();
  await expect(page.getByRole("status")).toContainText(`Reopened ${count} finding`);
}

async function fitsViewport(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, `page ${page.url()} is wider than the viewport`).toBeLessThanOrEqual(innerWidth);
}

const layouts = [
  { name: "desktop-light", viewport: { width: 1280, height: 900 }, colorScheme: "light" as const },
  { name: "phone-dark", viewport: { width: 375, height: 812 }, colorScheme: "dark" as const },
  { name: "phone-light", viewport: { width: 375, height: 812 }, colorScheme: "light" as const },
];

for (const layout of layouts) {
  test(`every screen fits at ${layout.name}`, async ({ browser }, testInfo) => {
    const context = await browser.newContext({ viewport: layout.viewport, colorScheme: layout.colorScheme });
    const page = await context.newPage();
    await signIn(page);
    // Dark mode follows the system setting: the page's colours differ from the other scheme's.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const other = await browser.newContext({ viewport: layout.viewport, colorScheme: layout.colorScheme === "dark" ? "light" : "dark" });
    const otherPage = await other.newPage();
    await otherPage.goto("/sign-in");
    const otherBackground = await otherPage.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await other.close();
    expect(background).not.toBe(otherBackground);
    expect(await page.evaluate(() => window.matchMedia("(prefers-color-scheme: dark)").matches)).toBe(layout.colorScheme === "dark");
    const findingHref = await (async () => {
      await page.goto("/findings");
      return page.getByRole("list", { name: "Findings" }).getByRole("link").first().getAttribute("href");
    })();
    expect(findingHref).toMatch(/^\/findings\/[\w-]+$/);
    const repositoryHref = await (async () => {
      await page.goto("/repositories");
      return page.getByRole("link", { name: "demo/sample-app" }).getAttribute("href");
    })();
    for (const path of ["/repositories", repositoryHref ?? "", "/findings", findingHref ?? "", "/rules", "/rules/session-not-closed", "/settings", "/no-such-page"]) {
      await page.goto(path);
      await fitsViewport(page);
      await page.screenshot({ path: testInfo.outputPath(`${layout.name}${path.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
    }
    await context.close();
  });
}

test("a missing page is a styled 404 with navigation", async ({ page }) => {
  await signIn(page);
  const response = await page.goto("/findings/not-a-finding");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Go to" }).getByRole("link", { name: "Findings" })).toBeVisible();
});

test("rule docs render as Markdown with highlighted examples, not raw fences", async ({ page }) => {
  await signIn(page);
  await page.goto("/rules/session-not-closed");
  await expect(page.getByRole("heading", { name: "session-not-closed", level: 1 })).toBeVisible();
  await expect(page.locator("pre.shiki").first()).toBeVisible();
  await expect(page.getByText("```")).toHaveCount(0);
});

test("a finding shows its code and fix, and can be ignored with a reason and reopened", async ({ page }) => {
  await signIn(page);
  await reopenIgnored(page);
  await page.goto("/findings?rule=session-not-closed");
  await page.getByRole("list", { name: "Findings" }).getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: "Code" })).toBeVisible();
  await expect(page.locator(".numbered pre.shiki .line.marked").first()).toBeVisible();
  await expect(page.getByRole("heading", { name: "Proposed fix" })).toBeVisible();
  await expect(page.locator("pre.shiki").nth(1)).toContainText("with");

  await page.getByLabel("Reason").selectOption("wont-fix");
  await page.getByLabel("Comment").fill("legacy script, removed next quarter");
  await page.getByRole("button", { name: "Ignore" }).click();
  await expect(page.getByRole("status")).toContainText("Ignored 1 finding");
  await expect(page.getByText("legacy script, removed next quarter").last()).toBeVisible();
  await expect(page.getByText("Ignored (Won't fix) by").last()).toBeVisible();

  await page.getByRole("button", { name: "Reopen" }).click();
  await expect(page.getByRole("status")).toContainText("Reopened 1 finding");
});

test("bulk triage from the findings table and the filters stay in the URL", async ({ page }) => {
  await signIn(page);
  await reopenIgnored(page);
  await page.goto("/findings");
  const total = Number((await page.getByTestId("findings-total").textContent())?.split(" ")[0]);
  expect(total).toBeGreaterThan(1);
  await page.locator("select[name=rule]").selectOption("forbidden-import");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/rule=forbidden-import/);
  const rows = page.getByRole("list", { name: "Findings" }).getByRole("listitem");
  const selected = await rows.count();
  for (let i = 0; i < selected; i++) await rows.nth(i).getByRole("checkbox").check();
  await page.getByRole("button", { name: "Ignore selected" }).click();
  await expect(page.getByRole("status")).toContainText(`Ignored ${selected} finding`);
  await expect(page).toHaveURL(/rule=forbidden-import/);
  await page.goto("/findings?rule=forbidden-import&status=ignored");
  await expect(page.getByRole("list", { name: "Findings" }).getByRole("listitem")).toHaveCount(selected);
  for (let i = 0; i < selected; i++) await page.getByRole("list", { name: "Findings" }).getByRole("listitem").nth(i).getByRole("checkbox").check();
  await page.getByRole("button", { name: "Reopen selected" }).click();
  await expect(page.getByRole("status")).toContainText(`Reopened ${selected} finding`);
});

test("findings export as CSV and SARIF with the current filters", async ({ page }) => {
  await signIn(page);
  await reopenIgnored(page);
  const csv = await page.request.get("/findings/export?format=csv&rule=session-not-closed");
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split("\n");
  expect(lines[0].split(",")).toContain("rule");
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) expect(line).toContain('"session-not-closed"');
  const sarif = await page.request.get("/findings/export?format=sarif");
  const document = await sarif.json();
  expect(document.version).toBe("2.1.0");
  expect(document.runs[0].results.length).toBeGreaterThan(0);
});

test("settings: invite a member with a one-time link, create and revoke an API token, see both in the audit log", async ({ page }) => {
  await signIn(page);
  await page.goto("/settings");
  const invitee = `member-${Date.now()}@example.test`;
  await page.getByRole("region", { name: "Members" }).getByLabel("Email").fill(invitee);
  await page.getByRole("region", { name: "Members" }).getByRole("button", { name: "Invite" }).click();
  const link = page.getByRole("region", { name: "Members" }).getByLabel("Copy this value");
  await expect(link).toHaveValue(/\/sign-in\/link\?token=/);
  await page.reload();
  await expect(page.getByRole("list", { name: "Members" })).toContainText(invitee);

  const tokenName = `ci-${Date.now()}`;
  await page.getByRole("region", { name: "API tokens" }).getByLabel("Name").fill(tokenName);
  await page.getByRole("region", { name: "API tokens" }).getByRole("button", { name: "Create token" }).click();
  const token = await page.getByRole("region", { name: "API tokens" }).getByLabel("Copy this value").inputValue();
  expect(token).toMatch(/^pgt_/);
  const api = await page.request.get("/api/v1/repositories", { headers: { authorization: `Bearer ${token}` } });
  expect(api.status()).toBe(200);
  await page.reload();
  await page.getByRole("button", { name: `Revoke ${tokenName}` }).click();
  await expect(page.getByRole("status")).toContainText("Token revoked");
  const refused = await page.request.get("/api/v1/repositories", { headers: { authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
  const audit = page.getByRole("list", { name: "Audit log" });
  await expect(audit).toContainText("member.invited");
  await expect(audit).toContainText("token.revoked");
});

test("an admin connects a local checkout, scans it and triages what it found", async ({ page }) => {
  const localRepo = process.env.POOLGUARD_TEST_LOCAL_REPO ?? "";
  expect(localRepo, "the test runner passes a checkout under POOLGUARD_LOCAL_ROOTS").not.toBe("");
  await signIn(page);
  await page.goto("/repositories");
  const form = page.getByRole("form", { name: "Add a repository" });
  await form.getByLabel("Path or URL").fill("/etc");
  await form.getByRole("button", { name: "Add and scan" }).click();
  await expect(page.getByRole("status")).toContainText("outside the folders this server may scan");

  await form.getByLabel("Path or URL").fill(localRepo);
  await form.getByRole("button", { name: "Add and scan" }).click();
  await expect(page.getByRole("status")).toContainText("Added orders-service");
  await page.getByRole("link", { name: "orders-service" }).click();
  await expect(page).toHaveURL(/\/repositories\/[\w-]+$/);
  // The in-process runner picks the scan up; the page shows progress, then the result.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole("list", { name: "Scans" }).getByRole("listitem").first()).toContainText("succeeded");
  }).toPass({ timeout: 60_000 });
  await page.getByRole("link", { name: "open findings" }).click();
  const rows = page.getByRole("list", { name: "Findings" }).getByRole("listitem");
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(0);
  await expect(page.locator('li[data-rule="session-not-closed"]').first()).toBeVisible();
});

test("pages carry a nonce-based Content-Security-Policy and no script is blocked by it", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto("/sign-in");
  const headers = response?.headers() ?? {};
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
  await signIn(page);
  for (const path of ["/findings", "/rules", "/settings"]) await page.goto(path);
  // Client components hydrated (the active navigation link is set by client code).
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" })).toHaveAttribute("aria-current", "page");
  expect(violations).toEqual([]);
});

test("the repository's fix pull request grouping is saved on its settings", async ({ page }) => {
  await signIn(page);
  await page.goto("/repositories");
  await page.getByRole("link", { name: "demo/sample-app" }).first().click();
  await expect(page).toHaveURL(/\/repositories\/[\w-]+$/);
  const form = page.getByRole("form", { name: "Fix pull requests" });
  await expect(form.getByLabel("Grouping")).toHaveValue("rule");
  await form.getByLabel("Grouping").selectOption("directory");
  await form.getByLabel("Most open at once").fill("3");
  await form.getByRole("button", { name: "Save fix pull request settings" }).click();
  await expect(page.getByRole("status")).toContainText("one pull request per folder, at most 3 open");
  await page.reload();
  await expect(page.getByRole("form", { name: "Fix pull requests" }).getByLabel("Grouping")).toHaveValue("directory");
  // Back to the default, so other tests see the seeded settings.
  await page.getByRole("form", { name: "Fix pull requests" }).getByLabel("Grouping").selectOption("rule");
  await page.getByRole("form", { name: "Fix pull requests" }).getByLabel("Most open at once").fill("5");
  await page.getByRole("form", { name: "Fix pull requests" }).getByRole("button", { name: "Save fix pull request settings" }).click();
  await expect(page.getByRole("status")).toContainText("one pull request per rule, at most 5 open");
});

/** Press Tab until `target` has the focus (at most `limit` presses); fails if it is not reachable. */
async function tabTo(page: Page, target: ReturnType<Page["locator"]>, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`not reachable with Tab in ${limit} presses: ${target}`);
}

test("the triage path works with the keyboard alone: sign in, open a finding, ignore it with a reason, reopen it", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await tabTo(page, page.getByLabel("Email"));
  await page.keyboard.type(email);
  await tabTo(page, page.getByLabel("Password"));
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/repositories$/);
  await reopenIgnored(page);

  await page.goto("/findings?rule=session-not-closed");
  const first = page.getByRole("list", { name: "Findings" }).getByRole("link").first();
  await tabTo(page, first);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Code" })).toBeVisible();

  const reason = page.getByLabel("Reason");
  await tabTo(page, reason);
  await reason.press("ArrowDown");
  const chosen = await reason.inputValue();
  expect(chosen).not.toBe("");
  await tabTo(page, page.getByLabel("Comment"));
  await page.keyboard.type("checked from the keyboard");
  await tabTo(page, page.getByRole("button", { name: "Ignore" }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status")).toContainText("Ignored 1 finding");
  await expect(page.getByText("checked from the keyboard").last()).toBeVisible();

  await tabTo(page, page.getByRole("button", { name: "Reopen" }));
  await page.keyboard.press("Space");
  await expect(page.getByRole("status")).toContainText("Reopened 1 finding");
  await context.close();
});
