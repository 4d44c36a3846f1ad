import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";
import { expectedFindings, FIXTURES, fixtureFolders, isSource, loadFolder } from "./fixture-helpers.ts";

// The same fixtures through the engine's public scan(): discovery hands the plugin its
// tsconfig/package.json files, the folder's poolguard.yml is read by the real config
// loader (forbidden_imports with allow_type_imports), and the findings that come out of
// worker threads, suppressions and fingerprints are exactly the annotated ones.

const work = mkdtempSync(join(tmpdir(), "poolguard-ts-engine-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(fixtureFolders())("engine scan of fixtures: %s", (folder) => {
  it("reports exactly the annotated findings", async () => {
    const root = join(work, folder);
    cpSync(join(FIXTURES, folder), root, { recursive: true, filter: (source) => !source.includes("__fixed__") });
    const result = await scan({ root, jobs: 2 });
    expect(result.errors).toEqual([]);
    const expected = loadFolder(folder)
      .filter((file) => isSource(file.path))
      .flatMap((file) => expectedFindings(file.text).map((entry) => `${file.path}:${entry}`))
      .sort();
    const actual = result.findings.map((finding) => `${finding.path}:${finding.rule}:${finding.line}`).sort();
    expect(actual).toEqual(expected);
    expect(new Set(result.findings.map((finding) => finding.fingerprint)).size).toBe(result.findings.length);
  });
});
