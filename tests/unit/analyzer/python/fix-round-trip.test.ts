import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";
import { sourceFiles } from "../fixture-expectations.ts";

const fixtures = join(import.meta.dirname, "../../../fixtures/python");
const snapshots = join(import.meta.dirname, "../../../fixtures/python-fixed");
const scratch = mkdtempSync(join(tmpdir(), "poolguard-py-fix-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("python fixes: apply, snapshot, compile, re-scan", () => {
  it.each(readdirSync(fixtures).sort())("%s", async (dir) => {
    const root = join(scratch, dir);
    cpSync(join(fixtures, dir), root, { recursive: true });
    const before = await scan({ root, jobs: 1 });
    const after = await scan({ root, jobs: 1, fix: "unsafe", writeFixes: true });
    const fixedCount = after.fixes?.files.reduce((n, f) => n + f.fixed.length, 0) ?? 0;
    const offered = before.findings.filter((f) => f.fix).length;
    expect(fixedCount, "every offered fix was applied").toBe(offered);
    expect(after.fixes?.dropped ?? []).toEqual([]);
    for (const file of sourceFiles(root, [".py"])) {
      const path = relative(root, file);
      // A fix must never leave a file that does not compile.
      execFileSync("python3", ["-m", "py_compile", file]);
      const original = readFileSync(join(fixtures, dir, path), "utf8");
      const fixed = readFileSync(file, "utf8");
      if (fixed !== original) await expect(fixed).toMatchFileSnapshot(join(snapshots, dir, path));
    }
    // Nothing that was fixable is still reported.
    const rescan = await scan({ root, jobs: 1 });
    expect(rescan.errors).toEqual([]);
    expect(rescan.findings.filter((f) => f.fix)).toEqual([]);
    expect(rescan.findings.length).toBe(before.findings.length - fixedCount);
  });
});
