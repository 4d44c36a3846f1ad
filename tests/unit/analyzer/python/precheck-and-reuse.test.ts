import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { scan } from "../../../../lib/analyzer/index.ts";
import { buildPythonIndex } from "../../../../lib/analyzer/python/build-index.ts";
import { pythonPlugin } from "../../../../lib/analyzer/python/plugin.ts";
import type { AnalyzeOptions, ForbiddenImportConfig, SourceInput } from "../../../../lib/analyzer/types.ts";

// Two speed-ups of the Python analyzer that must not change a single answer:
// - the index's fixpoint does not lower again a function whose inputs (the summaries it
//   read, in the same round) are unchanged;
// - while the index is built, idle analysis processes parse the files that name nothing
//   of the models or the config (precheck); a file whose answer the index cannot change
//   keeps it, any other file (one reached through a project wrapper, one with a banned
//   import) is analysed after the index as before.

const FIXTURES = new URL("../../../fixtures/python/", import.meta.url).pathname;

function sources(dir: string): SourceInput[] {
  const out: SourceInput[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (name.endsWith(".py")) out.push({ path: relative(FIXTURES, full), text: readFileSync(full, "utf8") });
  }
  return out;
}

const allRules = (bans: ForbiddenImportConfig[] = []): AnalyzeOptions => ({
  config: { ...defaultConfig(), forbidden_imports: bans },
  enabledRules: new Set([...pythonPlugin.rules.map((rule) => rule.id)]),
});

describe("Python index fixpoint reusing unchanged summaries", () => {
  it("gives the same index on the fixtures as lowering every function again", () => {
    const files = sources(FIXTURES);
    expect(files.length).toBeGreaterThan(20);
    const reused = buildPythonIndex(files, allRules());
    expect(Object.keys(reused.summaries).length).toBeGreaterThan(0);
    expect(JSON.stringify(reused)).toBe(JSON.stringify(buildPythonIndex(files, allRules(), { reuseSummaries: false })));
  });

  it("still sees a summary that changed in a later pass (wrappers defined before what they wrap)", () => {
    // Each wrapper comes before the function it calls, so the first pass reads no summary
    // for it and only later passes learn that it returns a connection.
    const chain = [
      "from sqlalchemy import create_engine",
      "engine = create_engine('sqlite://')",
      "def outermost_wrapper():",
      "    return middle_wrapper()",
      "def middle_wrapper():",
      "    return inner_wrapper()",
      "def inner_wrapper():",
      "    return engine.connect()",
      "def release_it(conn):",
      "    finish_it(conn)",
      "def finish_it(conn):",
      "    conn.close()",
    ].join("\n");
    const files = [{ path: "app/db.py", text: chain }];
    const reused = buildPythonIndex(files, allRules());
    expect(reused.summaries["app.db.outermost_wrapper"]).toMatchObject({ returnsFresh: "sqlalchemy.engine.Connection" });
    expect(reused.summaries["app.db.release_it"]).toMatchObject({ releasesParams: [0] });
    expect(JSON.stringify(reused)).toBe(JSON.stringify(buildPythonIndex(files, allRules(), { reuseSummaries: false })));
  });

  it("keeps late-bound globals and factories stored through a local", () => {
    const text = [
      "from sqlalchemy.orm import sessionmaker",
      "Maker = None",
      "def init(app, engine):",
      "    global Maker",
      "    Maker = sessionmaker(bind=engine)",
      "    factory = sessionmaker(bind=engine)",
      "    other = 1",
      "    app.state.session_source = factory",
      "    app.state.counter = other",
    ].join("\n");
    const index = buildPythonIndex([{ path: "app/setup.py", text }], allRules());
    expect(index.modules["app.setup"]?.bindings.Maker).toEqual({ kind: "value", type: "sqlalchemy.orm.sessionmaker" });
    expect(index.attributes.session_source).toBe("sqlalchemy.orm.sessionmaker");
    expect(index.attributes.counter).toBeUndefined();
  });
});

describe("Python prechecks while the index is built", () => {
  const root = mkdtempSync(join(tmpdir(), "poolguard-py-precheck-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "app"), { recursive: true });
  writeFileSync(join(root, "app/__init__.py"), "");
  writeFileSync(join(root, "app/db.py"), "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n\ndef open_link():\n    return engine.connect()\n");
  // Reached only through the project's wrapper: nothing of the models in the text.
  for (let i = 0; i < 30; i++) {
    writeFileSync(
      join(root, `app/wrapped_${String(i).padStart(2, "0")}.py`),
      `from app.db import open_link\n\ndef count_${i}():\n    link = open_link()\n    return link.execute("select ${i}")\n`,
    );
  }
  for (let i = 0; i < 30; i++) writeFileSync(join(root, `app/plain_${String(i).padStart(2, "0")}.py`), `LIMIT_${i} = ${i}\n\ndef double_${i}(x):\n    return x * 2\n`);
  writeFileSync(join(root, "app/legacy.py"), "import requests\n\ndef fetch(url):\n    return requests.get(url)\n");
  // Not parsed at all (nothing to find in it), so its syntax error is not reported.
  writeFileSync(join(root, "app/broken.py"), "def broken(:\n    return 1\n");
  // Analysed (it names a model's callable): its syntax error is reported.
  writeFileSync(join(root, "app/broken_db.py"), "import sqlite3\n\ndef open_memory(:\n    return sqlite3.connect(':memory:')\n");
  const bans: ForbiddenImportConfig[] = [{ from: "requests", message: "use httpx", line: 1 }];

  it("gives the same findings and errors as analysing every file in process", async () => {
    const config = { ...defaultConfig(), forbidden_imports: bans };
    const parallel = await scan({ root, jobs: 2, config });
    const serial = await scan({ root, jobs: 1, config });
    expect(parallel.files_scanned).toBe(65);
    expect(parallel.findings).toEqual(serial.findings);
    expect(parallel.errors).toEqual(serial.errors);
    const byPath = new Set(parallel.findings.filter((f) => f.rule === "connection-not-closed").map((f) => f.path));
    for (let i = 0; i < 30; i++) expect(byPath.has(`app/wrapped_${String(i).padStart(2, "0")}.py`)).toBe(true);
    expect(parallel.findings.filter((f) => f.path.startsWith("app/plain_"))).toEqual([]);
    expect(parallel.findings.filter((f) => f.path === "app/legacy.py").map((f) => f.rule)).toEqual(["forbidden-import"]);
    expect(parallel.errors).toEqual([{ path: "app/broken_db.py", message: expect.stringMatching(/^syntax error at line 3/) }]);
  });

  it("leaves to the full analysis what only the index can settle", () => {
    const options = allRules(bans);
    const db = { path: "app/db.py", text: readFileSync(join(root, "app/db.py"), "utf8") };
    const wrapped = { path: "app/wrapped_00.py", text: readFileSync(join(root, "app/wrapped_00.py"), "utf8") };
    const plain = { path: "app/plain_00.py", text: readFileSync(join(root, "app/plain_00.py"), "utf8") };
    const legacy = { path: "app/legacy.py", text: readFileSync(join(root, "app/legacy.py"), "utf8") };
    const broken = { path: "app/broken.py", text: readFileSync(join(root, "app/broken.py"), "utf8") };
    const index = pythonPlugin.buildIndex([db, wrapped, plain, legacy, broken], options);
    // Names a model's callable: analysed whatever the index says, so not parsed early.
    expect(pythonPlugin.precheck?.(db, options)).toBeNull();
    // A banned import needs the analysis (its fix's safety reads the index).
    expect(pythonPlugin.precheck?.(legacy, options)).toBeNull();
    // The wrapper's name is learnt by the index: the early answer does not stand.
    const early = pythonPlugin.precheck?.(wrapped, options);
    expect(early).toEqual({ findings: [] });
    expect(pythonPlugin.afterPrecheck?.(wrapped, early as never, index, options)).toBeNull();
    expect(pythonPlugin.analyzeFile(wrapped, index, options).findings.map((f) => f.rule)).toEqual(["connection-not-closed"]);
    // Nothing to look at: the early answer is what the analysis gives.
    const quiet = pythonPlugin.precheck?.(plain, options);
    expect(pythonPlugin.afterPrecheck?.(plain, quiet as never, index, options)).toEqual(pythonPlugin.analyzeFile(plain, index, options));
    // A file that cannot hold anything is not parsed: its syntax error is nobody's finding.
    const unparsed = pythonPlugin.precheck?.(broken, options);
    expect(unparsed).toEqual({ findings: [] });
    expect(pythonPlugin.afterPrecheck?.(broken, unparsed as never, index, options)).toEqual(pythonPlugin.analyzeFile(broken, index, options));
    const brokenDb = { path: "app/broken_db.py", text: readFileSync(join(root, "app/broken_db.py"), "utf8") };
    expect(pythonPlugin.precheck?.(brokenDb, options)).toBeNull();
    expect(pythonPlugin.analyzeFile(brokenDb, index, options).error).toMatch(/^syntax error at line 3/);
  });
});

describe("Python files that cannot hold a banned import", () => {
  const broken = "def broken(:\n    return 1\n";
  const options = (bans: ForbiddenImportConfig[]) => allRules(bans);
  const empty = buildPythonIndex([], allRules());

  it("are not parsed when no ban applies to Python (ESLint policies are for TypeScript)", () => {
    const eslintBan: ForbiddenImportConfig = {
      from: "react-email",
      policy: { kind: "eslint-restricted-import", origin: { file: "eslint.config.mjs", line: 1, tool: "eslint", name: "no-restricted-imports" }, name: "react-email", case_sensitive: true, allow_type_imports: false },
    };
    const file = { path: "app/x.py", text: `import react_email\n${broken}` };
    expect(pythonPlugin.analyzeFile(file, empty, options([eslintBan]))).toEqual({ findings: [] });
    // The same text under a ban of the config: parsed, and the syntax error reported.
    expect(pythonPlugin.analyzeFile(file, empty, options([{ from: "react_email", line: 1 }])).error).toMatch(/^syntax error/);
  });

  it("are not parsed when they do not name the banned module's last component, or the ban does not apply to them", () => {
    const ban: ForbiddenImportConfig = { from: "app.legacy", line: 1, in: ["app/**"] };
    expect(pythonPlugin.analyzeFile({ path: "app/x.py", text: `import json\n${broken}` }, empty, options([ban]))).toEqual({ findings: [] });
    expect(pythonPlugin.analyzeFile({ path: "tools/x.py", text: `from app import legacy\n${broken}` }, empty, options([ban]))).toEqual({ findings: [] });
    expect(pythonPlugin.analyzeFile({ path: "app/x.py", text: `from app import legacy\n${broken}` }, empty, options([ban])).error).toMatch(/^syntax error/);
  });

  it("still finds a relative import whose banned component comes from the file's path", () => {
    // import-linter: app.core may not import app.web; `from .. import views` in app/web/sub/x.py imports app.web.views,
    // and `..` from app/core/x.py reaches app: the text never says "web" in the second case below.
    const contract = (forbidden: string): ForbiddenImportConfig => ({
      from: forbidden,
      line: 1,
      policy: {
        kind: "import-linter-forbidden",
        origin: { file: "pyproject.toml", line: 1, tool: "import-linter", name: "core stays independent" },
        source_modules: ["app.web.sub"],
        forbidden_modules: [forbidden],
        ignore_imports: [],
        as_packages: true,
        root_packages: ["app"],
      },
    });
    const file = { path: "app/web/sub/x.py", text: "from .. import views\n" };
    const findings = pythonPlugin.analyzeFile(file, empty, options([contract("app.web")])).findings;
    expect(findings.map((f) => f.rule)).toEqual(["forbidden-import"]);
    // Same text, a contract on a module named nowhere in the text or the path: not parsed.
    expect(pythonPlugin.analyzeFile({ path: "app/web/sub/x.py", text: `from .. import views\n${broken}` }, empty, options([contract("app.billing")]))).toEqual({
      findings: [],
    });
  });
});

describe("a Python code base with a little TypeScript", () => {
  // Both indexes are built at the same time (the TypeScript one is small): the answers must
  // be those of the in-process scan, which builds them one after the other.
  const root = mkdtempSync(join(tmpdir(), "poolguard-py-mixed-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "app"), { recursive: true });
  mkdirSync(join(root, "emails"), { recursive: true });
  writeFileSync(join(root, "app/__init__.py"), "");
  writeFileSync(join(root, "app/db.py"), "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n\ndef open_link():\n    return engine.connect()\n");
  for (let i = 0; i < 40; i++) {
    writeFileSync(join(root, `app/use_${String(i).padStart(2, "0")}.py`), `from app.db import open_link\n\ndef count_${i}():\n    link = open_link()\n    return link.execute("select ${i}")\n`);
  }
  writeFileSync(join(root, "emails/pool.ts"), 'import { Pool } from "pg";\nconst pool = new Pool();\nexport async function count() {\n  const client = await pool.connect();\n  return client.query("select 1");\n}\n');
  for (let i = 0; i < 10; i++) writeFileSync(join(root, `emails/template_${i}.ts`), `export const subject${i} = "Hello ${i}";\n`);

  it("gives the same findings as the in-process scan", async () => {
    const parallel = await scan({ root, jobs: 2, config: defaultConfig() });
    const serial = await scan({ root, jobs: 1, config: defaultConfig() });
    expect(parallel.files_scanned).toBe(53);
    expect(parallel.findings).toEqual(serial.findings);
    expect(parallel.errors).toEqual(serial.errors);
    expect(parallel.findings.filter((f) => f.path.startsWith("app/use_")).length).toBe(40);
    expect(parallel.findings.filter((f) => f.path === "emails/pool.ts").map((f) => f.rule)).toEqual(["pool-client-not-released"]);
  });
});
