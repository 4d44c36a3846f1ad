// The pre-commit hook as pre-commit runs it: `entry` plus the staged files, from the
// user's repository root.
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { parse } from "yaml";

const projectRoot = join(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "poolguard-pre-commit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const leak = (name: string) => `from app.db import SessionLocal


def ${name}():
    session = SessionLocal()
    return session.query(User).count()
`;

it("runs `entry` with the staged files: the whole repository indexed, only those files reported", () => {
  const hooks = parse(readFileSync(join(projectRoot, ".pre-commit-hooks.yaml"), "utf8")) as { id: string; entry: string; language: string; pass_filenames: boolean }[];
  const hook = hooks.find((h) => h.id === "poolguard");
  expect(hook).toMatchObject({ language: "script", pass_filenames: true });
  const [script, ...args] = (hook?.entry ?? "").split(" ");
  accessSync(join(projectRoot, script), constants.X_OK);

  const repo = join(scratch, "repo");
  const files = {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n",
    "app/staged.py": leak("staged"),
    "app/untouched.py": leak("untouched"),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  const result = spawnSync(join(projectRoot, script), [...args, "--format", "json", "app/staged.py"], { cwd: repo, encoding: "utf8" });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(1);
  expect(JSON.parse(result.stdout).findings.map((f: { path: string }) => f.path)).toEqual(["app/staged.py"]);
});
