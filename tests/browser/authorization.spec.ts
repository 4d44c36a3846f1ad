import { execFileSync } from "node:child_process";
import { type Browser, expect, type Page, test } from "@playwright/test";

// The pages' side of the authorization matrix (the REST API's is in
// tests/integration/authorization.test.ts): a user of another organization gets the
// same 404 page for this organization's repository and finding as for ids that do not
// exist, and sees none of its data; a viewer gets no triage controls; a member demoted
// to viewer while the page is open is refused when they press a button.

const email = process.env.POOLGUARD_ADMIN_EMAIL ?? "";
const password = process.env.POOLGUARD_ADMIN_PASSWORD ?? "";

function admin(...args: string[]): string {
  return execFileSync("node", ["bin/poolguard.mjs", "admin", ...args], { env: process.env, encoding: "utf8" });
}

/** A new browser signed in through the one-time link `create-user` printed. */
async function signedInAs(browser: Browser, link: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link.trim());
  await expect(page).toHaveURL(/\/repositories$/);
  return page;
}

/** A repository page and a finding page of the first organization (the demo workspace), seen by its admin. */
async function targets(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/repositories$/);
  const repositoryLink = page.getByRole("list", { name: "Repositories" }).getByRole("link").first();
  const repositoryName = (await repositoryLink.textContent())?.trim() ?? "";
  await repositoryLink.click();
  await expect(page).toHaveURL(/\/repositories\/[\w-]+$/);
  const repositoryUrl = new URL(page.url()).pathname;
  await page.goto(`/findings?repository=${repositoryUrl.split("/").pop()}`);
  const findingLink = page.getByRole("list", { name: "Findings" }).getByRole("listitem").first().getByRole("link");
  const findingPath = (await findingLink.textContent())?.trim() ?? "";
  await findingLink.click();
  await expect(page).toHaveURL(/\/findings\/[\w-]+$/);
  const findingUrl = new URL(page.url()).pathname;
  await context.close();
  return { repositoryName, repositoryUrl, findingUrl, findingPath };
}

test("another organization's repository and finding are a 404, like ids that do not exist", async ({ browser }) => {
  const t = await targets(browser);
  // create-org makes the first admin its owner too; the new user belongs to the rival only.
  const slug = admin("create-org", "Rival Labs", "--slug", `rival-${Date.now().toString(36)}`).trim();
  const link = admin("create-user", `owner-${Date.now().toString(36)}@rival.test`, "--org", slug, "--role", "owner");
  const page = await signedInAs(browser, link);
  for (const path of [t.repositoryUrl, t.findingUrl, "/repositories/c0000000000000000000000000", "/findings/c0000000000000000000000000"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
    await expect(page.locator("body")).not.toContainText(t.repositoryName);
  }
  // Lists, exports and settings show only the rival's own (empty) organization.
  await page.goto("/repositories");
  await expect(page.getByRole("main")).not.toContainText(t.repositoryName);
  await page.goto(`/findings?repository=${t.repositoryUrl.split("/").pop()}`);
  await expect(page.getByRole("main")).not.toContainText(t.findingPath);
  const csv = await page.request.get(`/findings/export?format=csv&repository=${t.repositoryUrl.split("/").pop()}`);
  expect(csv.status()).toBe(200);
  expect(await csv.text()).not.toContain(t.repositoryName);
  await page.goto("/settings");
  await expect(page.getByRole("main")).toContainText("Rival Labs");
  await expect(page.getByRole("main")).not.toContainText(t.repositoryName);
  const progress = await page.request.get(`${t.repositoryUrl}/progress?scan=c0000000000000000000000000`);
  expect(progress.status()).toBe(404);
});

test("a viewer gets no triage controls, and a member demoted meanwhile is refused", async ({ browser }) => {
  const t = await targets(browser);
  const viewerEmail = `viewer-${Date.now().toString(36)}@example.test`;
  const viewer = await signedInAs(browser, admin("create-user", viewerEmail, "--role", "viewer"));
  await viewer.goto(t.findingUrl);
  await expect(viewer.getByRole("heading", { name: "Code" })).toBeVisible();
  await expect(viewer.getByRole("region", { name: "Triage" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Ignore" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Open fix PR" })).toHaveCount(0);
  await viewer.goto("/findings");
  await expect(viewer.getByRole("list", { name: "Findings" })).toBeVisible();
  await expect(viewer.getByRole("checkbox")).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Ignore selected" })).toHaveCount(0);
  await viewer.goto("/repositories");
  await expect(viewer.getByRole("button", { name: "Scan now" })).toHaveCount(0);
  await expect(viewer.getByRole("form", { name: "Add a repository" })).toHaveCount(0);

  const memberEmail = `member-${Date.now().toString(36)}@example.test`;
  const member = await signedInAs(browser, admin("create-user", memberEmail, "--role", "member"));
  await member.goto(t.findingUrl);
  const triage = member.getByRole("region", { name: "Triage" });
  await expect(triage).toBeVisible();
  admin("create-user", memberEmail, "--role", "viewer");
  await triage.getByRole("button", { name: "Ignore" }).click();
  await expect(member.getByRole("status")).toContainText("Triaging findings needs the member role or higher");
  await expect(member.getByRole("region", { name: "Triage" })).toHaveCount(0);
});
