import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { type Node, Project, SyntaxKind } from "ts-morph";
import { describe, expect, it } from "vitest";

// The dashboard's side of the authorization matrix, as a check on the source: every server
// action (every exported function of an app/**/actions.ts file, each one a public POST
// endpoint) must check who is calling, with the role the matrix below gives it, before it
// reads or writes anything. The browser suite proves the checks refuse (a viewer's button
// press, another organization's ids, a foreign origin); this test keeps a new action from
// shipping without one.

const root = join(import.meta.dirname, "..", "..", "..");

/** action -> the role it requires ("public": signs in or out, before any role exists). */
const matrix: Record<string, "public" | "member" | "admin" | "any membership"> = {
  "app/sign-in/actions.ts#signIn": "public",
  "app/(dashboard)/actions.ts#signOut": "public",
  "app/(dashboard)/repositories/actions.ts#addRepository": "admin",
  "app/(dashboard)/repositories/actions.ts#connectGitHubRepository": "admin",
  "app/(dashboard)/repositories/actions.ts#scanNow": "member",
  "app/(dashboard)/repositories/actions.ts#saveSchedule": "admin",
  "app/(dashboard)/repositories/actions.ts#saveFixPullRequestSettings": "admin",
  "app/(dashboard)/repositories/actions.ts#saveConfig": "admin",
  "app/(dashboard)/settings/actions.ts#invite": "admin",
  "app/(dashboard)/settings/actions.ts#changeRole": "admin",
  "app/(dashboard)/settings/actions.ts#remove": "admin",
  "app/(dashboard)/settings/actions.ts#createToken": "admin",
  "app/(dashboard)/settings/actions.ts#revokeToken": "admin",
  "app/(dashboard)/settings/actions.ts#switchOrganization": "any membership",
  "app/(dashboard)/findings/actions.ts#triage": "member",
  "app/(dashboard)/findings/actions.ts#openFixPullRequests": "member",
};

function actionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return actionFiles(path);
    return entry.name === "actions.ts" ? [path] : [];
  });
}

/** The role an action's first guard asks for, and whether a database call comes before it. */
function guardOf(body: Node): { role: string | null; dbBefore: string[] } {
  const dbBefore: string[] = [];
  for (const call of body.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression().getText();
    if (callee === "requireRole") return { role: call.getArguments()[0]?.getText().replace(/["']/g, "") ?? null, dbBefore };
    if (callee === "requireMember") return { role: "any membership", dbBefore };
    const declaration = call.getExpression().getSymbol()?.getAliasedSymbol?.()?.getDeclarations()[0] ?? call.getExpression().getSymbol()?.getDeclarations()[0];
    if (declaration?.getSourceFile().getFilePath().includes("/lib/db/")) dbBefore.push(callee);
  }
  return { role: null, dbBefore };
}

describe("server actions", () => {
  const project = new Project({ tsConfigFilePath: join(root, "tsconfig.json"), skipAddingFilesFromTsConfig: true });
  const files = actionFiles(join(root, "app"));
  for (const file of files) project.addSourceFileAtPath(file);
  project.resolveSourceFileDependencies();

  it("are exactly the ones in the matrix", () => {
    const found = files.flatMap((file) => {
      const source = project.getSourceFileOrThrow(file);
      expect(source.getFullText().trimStart().startsWith('"use server"')).toBe(true);
      return [...source.getExportedDeclarations().entries()].filter(([, ds]) => ds.some((d) => d.isKind(SyntaxKind.FunctionDeclaration))).map(([name]) => `${relative(root, file)}#${name}`);
    });
    expect(found.sort()).toEqual(Object.keys(matrix).sort());
  });

  it("each checks its caller's role before touching the database", () => {
    const seen: Record<string, string> = {};
    for (const file of files) {
      const source = project.getSourceFileOrThrow(file);
      for (const fn of source.getFunctions().filter((f) => f.isExported())) {
        const key = `${relative(root, file)}#${fn.getName()}`;
        const body = fn.getBodyOrThrow();
        const { role, dbBefore } = guardOf(body);
        expect(dbBefore, `${key} calls the database before its role check`).toEqual([]);
        seen[key] = role ?? "public";
      }
    }
    expect(seen).toEqual(matrix);
  });
});
