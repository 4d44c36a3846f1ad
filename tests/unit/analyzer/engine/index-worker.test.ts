import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// The process that builds the main language's index stays on as an analysis process and
// analyses the files it parsed with the trees it kept; a small second language's index is
// built in the scan's own process. Neither may change an answer: a scan on two processes
// must give exactly what the in-process scan gives, in both languages.

const root = mkdtempSync(join(tmpdir(), "poolguard-index-worker-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the index process as an analysis process", () => {
  mkdirSync(join(root, "app"), { recursive: true });
  mkdirSync(join(root, "web"), { recursive: true });
  writeFileSync(join(root, "app/__init__.py"), "");
  writeFileSync(join(root, "app/db.py"), "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n\n\ndef get_session():\n    return SessionLocal()\n");
  for (let i = 0; i < 40; i++) {
    // Half name the library factory (parsed by the index), half only the project wrapper.
    const body = i % 2 === 0 ? "session = SessionLocal()" : "session = get_session()";
    writeFileSync(
      join(root, `app/handler_${String(i).padStart(2, "0")}.py`),
      `from app.db import SessionLocal, get_session\n\n\ndef handler_${i}():\n    ${body}\n    return session.query(User).count()\n`,
    );
  }
  for (let i = 0; i < 20; i++) writeFileSync(join(root, `app/plain_${String(i).padStart(2, "0")}.py`), `VALUE_${i} = ${i}\n`);
  writeFileSync(join(root, "app/broken.py"), "from app.db import SessionLocal\n\ndef broken(:\n    return SessionLocal()\n");
  writeFileSync(
    join(root, "web/db.ts"),
    'import { DataSource } from "typeorm";\nexport const dataSource = new DataSource({ type: "postgres" });\nexport function getRunner() {\n  return dataSource.createQueryRunner();\n}\n',
  );
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(root, `web/use_${i}.ts`), `import { getRunner } from "./db";\nexport async function count${i}() {\n  const runner = getRunner();\n  return runner.query("select ${i}");\n}\n`);
  }

  it("gives the same findings and errors as the in-process scan", async () => {
    const parallel = await scan({ root, jobs: 2 });
    const serial = await scan({ root, jobs: 1 });
    expect(parallel.files_scanned).toBe(serial.files_scanned);
    expect(parallel.findings).toEqual(serial.findings);
    expect(parallel.errors).toEqual(serial.errors);
    const paths = new Set(parallel.findings.map((f) => f.path));
    for (let i = 0; i < 40; i++) expect(paths.has(`app/handler_${String(i).padStart(2, "0")}.py`)).toBe(true);
    for (let i = 0; i < 4; i++) expect(paths.has(`web/use_${i}.ts`)).toBe(true);
    expect(parallel.errors.map((e) => e.path)).toEqual(["app/broken.py"]);
  });
});
