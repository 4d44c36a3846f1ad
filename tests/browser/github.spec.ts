import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";

// GitHub in the dashboard, against the fake GitHub that scripts/test.mjs starts before
// the app (one App installation on "acme" with acme/shop, whose Python leaks sessions):
// sign in with GitHub -> connect the repository -> scan -> findings -> ignore one ->
// open a fix pull request -> the link to it, then the screens at desktop and 375 px,
// light and dark.

const control = process.env.FAKE_GITHUB_CONTROL_URL ?? "";

async function fake(path: string, body?: unknown) {
  const response = await fetch(`${control}${path}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.ok, `fake GitHub control ${path}`).toBe(true);
  return response.json();
}

async function signInWithGitHub(page: Page) {
  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Sign in with GitHub" }).click();
}

async function fitsViewport(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, `page ${page.url()} is wider than the viewport`).toBeLessThanOrEqual(innerWidth);
}

test.beforeAll(() => {
  expect(control, "scripts/test.mjs starts the fake GitHub and passes FAKE_GITHUB_CONTROL_URL").not.toBe("");
});

test("a GitHub account nobody invited is asked to get an invitation", async ({ page }) => {
  await fake("/authorize-as", { login: "stranger", emails: [{ email: "stranger@elsewhere.test" }] });
  await signInWithGitHub(page);
  await expect(page).toHaveURL(/\/sign-in\/github\?login=stranger$/);
  await expect(page.getByRole("heading", { name: "Ask an admin to invite you" })).toBeVisible();
  await expect(page.getByRole("main")).toContainText("stranger");
  // Not signed in: the dashboard still sends them to sign in.
  await page.goto("/repositories");
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("a callback whose state did not start in this browser is refused", async ({ page }) => {
  await page.goto("/api/auth/github/callback?code=abc&state=forged");
  await expect(page).toHaveURL(/\/sign-in\?error=github-state$/);
  await expect(page.getByRole("main").getByRole("alert")).toContainText("did not start here");
  // Email and password sign-in stays on the same page.
  await expect(page.getByLabel("Email")).toBeVisible();
});

test("sign in with GitHub, connect a repository, scan, ignore a finding, open a fix pull request", async ({ browser }, testInfo) => {
  test.setTimeout(240_000);
  // An admin invites dana@example.test (the address GitHub has verified for "dana").
  const invited = execFileSync("node", ["bin/poolguard.mjs", "admin", "create-user", "dana@example.test", "--role", "admin"], { env: process.env, encoding: "utf8" });
  expect(invited).toMatch(/\/sign-in\/link\?token=/);
  await fake("/authorize-as", { login: "dana", emails: [{ email: "dana@users.github.test" }, { email: "dana@example.test" }] });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" });
  const page = await context.newPage();
  await signInWithGitHub(page);
  await expect(page).toHaveURL(/\/repositories$/);

  // The picker lists the installation's repositories live from GitHub.
  const picker = page.getByRole("list", { name: "GitHub repositories" });
  await expect(picker).toContainText("acme/shop");
  await page.getByRole("button", { name: "Connect acme/shop" }).click();
  await expect(page.getByRole("status")).toContainText("Connected acme/shop");
  await expect(page.getByRole("list", { name: "GitHub repositories" })).toHaveCount(0);
  await page.getByRole("list", { name: "Repositories" }).getByRole("link", { name: "acme/shop" }).click();
  await expect(page).toHaveURL(/\/repositories\/[\w-]+$/);
  const repositoryUrl = page.url();
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole("list", { name: "Scans" }).getByRole("listitem").first()).toContainText("succeeded");
  }).toPass({ timeout: 90_000 });

  // Findings of the GitHub repository; ignore the connection one as a false positive.
  await page.getByRole("link", { name: "open findings" }).click();
  const findingsUrl = page.url();
  await expect(page.locator('li[data-rule="session-not-closed"]')).toHaveCount(2);
  const connection = page.locator('li[data-rule="connection-not-closed"]').first();
  await connection.getByRole("checkbox").check();
  await page.getByLabel("Comment").fill("closed by the pool's reaper");
  await page.getByRole("button", { name: "Ignore selected" }).click();
  await expect(page.getByRole("status")).toContainText("Ignored 1 finding");
  await expect(page.locator('li[data-rule="connection-not-closed"]')).toHaveCount(0);

  // One session leak: its page offers "Open fix PR" (the fix is safe).
  await page.locator('li[data-rule="session-not-closed"]').first().getByRole("link").click();
  await expect(page).toHaveURL(/\/findings\/[\w-]+$/);
  const findingUrl = page.url();
  const button = page.getByRole("button", { name: "Open fix PR" });
  await expect(button).toBeEnabled();
  await button.click();
  await expect(page.getByRole("status").first()).toContainText(/Opening (a )?fix pull request/);
  const prLink = page.getByRole("list", { name: "Fix pull requests" }).getByRole("link");
  await expect(async () => {
    await page.reload();
    await expect(prLink).toBeVisible();
  }).toPass({ timeout: 90_000 });
  const pulls = (await fake("/pulls")) as { number: number; head: string; state: string }[];
  expect(pulls.map((p) => [p.head, p.state])).toEqual([["poolguard/fix-session-not-closed", "open"]]);
  await expect(prLink).toHaveText(`#${pulls[0].number}`);
  expect(await prLink.getAttribute("href")).toMatch(new RegExp(`/acme/shop/pull/${pulls[0].number}$`));
  // With its pull request open, the button gives way to the link.
  await expect(page.getByRole("button", { name: "Open fix PR" })).toHaveCount(0);
  await expect(page.getByRole("region", { name: "History" })).toContainText("Fix pull request opened");
  const storage = await context.storageState();
  await context.close();

  // The same screens at desktop and phone widths, light and dark.
  const layouts = [
    { name: "desktop-light", viewport: { width: 1280, height: 900 }, colorScheme: "light" as const },
    { name: "desktop-dark", viewport: { width: 1280, height: 900 }, colorScheme: "dark" as const },
    { name: "phone-light", viewport: { width: 375, height: 812 }, colorScheme: "light" as const },
    { name: "phone-dark", viewport: { width: 375, height: 812 }, colorScheme: "dark" as const },
  ];
  const screens = [
    { name: "repositories", url: "/repositories" },
    { name: "repository", url: repositoryUrl },
    { name: "findings", url: findingsUrl },
    { name: "finding", url: findingUrl },
  ];
  for (const layout of layouts) {
    const view = await browser.newContext({ viewport: layout.viewport, colorScheme: layout.colorScheme, storageState: storage });
    const screen = await view.newPage();
    for (const s of screens) {
      await screen.goto(s.url);
      await expect(screen.getByRole("main")).toBeVisible();
      await fitsViewport(screen);
      await screen.screenshot({ path: testInfo.outputPath(`github-${layout.name}-${s.name}.png`), fullPage: true });
      if (process.env.UPDATE_SCREENSHOT && (layout.name === "desktop-light" || layout.name === "phone-dark") && (s.name === "finding" || s.name === "repositories")) {
        mkdirSync("docs/screenshots", { recursive: true });
        await screen.screenshot({ path: `docs/screenshots/${s.name === "finding" ? "finding-fix-pr" : "repositories-github"}-${layout.name}.png` });
      }
    }
    await view.close();
  }
  expect(await fake("/violations")).toEqual([]);
});
