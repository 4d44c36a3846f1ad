import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

const root = mkdtempSync(join(tmpdir(), "poolguard-workers-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const leak = (i: number) => `from app.db import SessionLocal\n\n\ndef handler_${i}():\n    session = SessionLocal()\n    return session.query(User).count()\n`;

describe("scanning on worker threads", () => {
  mkdirSync(join(root, "app"), { recursive: true });
  writeFileSync(join(root, "app/__init__.py"), "");
  writeFileSync(join(root, "app/db.py"), "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n");
  for (let i = 0; i < 80; i++) writeFileSync(join(root, `app/handler_${String(i).padStart(2, "0")}.py`), leak(i));

  it("gives the same findings, in the same order, as the in-process scan", async () => {
    const progress: number[] = [];
    const parallel = await scan({ root, jobs: 2, onProgress: ({ filesDone }) => progress.push(filesDone) });
    const serial = await scan({ root, jobs: 1 });
    expect(parallel.findings).toHaveLength(80);
    expect(parallel.findings).toEqual(serial.findings);
    expect(parallel.findings.map((f) => f.path)).toEqual([...parallel.findings.map((f) => f.path)].sort());
    expect(progress.at(-1)).toBe(parallel.files_scanned);
  });

  it("reports a file that exceeds the time limit and finishes the scan", async () => {
    // Thousands of sessions in one function: far more work than the 3 s limit allows.
    const lines = Array.from({ length: 3_000 }, (_, i) => `    s${i} = SessionLocal()`).join("\n");
    writeFileSync(join(root, "app/huge.py"), `from app.db import SessionLocal\n\n\ndef huge():\n${lines}\n`);
    const result = await scan({ root, jobs: 2, fileTimeoutMs: 3000, maxFileBytes: 10 * 1024 * 1024 });
    expect(result.errors).toEqual([{ path: "app/huge.py", message: "analysis timed out after 3 s" }]);
    expect(result.files_scanned).toBe(83);
    rmSync(join(root, "app/huge.py"));
  });
});
