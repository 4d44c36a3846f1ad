import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scan } from "../../../../lib/analyzer/index.ts";

// A `use_instead` the repository's own config names is the team's declared fix: it is
// offered as safe when the rewrite is provably complete, unsafe when some use of the
// name is not covered, and applied safe fixes leave code that compiles and re-scans clean.

const work = mkdtempSync(join(tmpdir(), "poolguard-use-instead-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let count = 0;

function repo(files: Record<string, string>): string {
  const root = join(work, `repo-${count++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const pythonConfig = [
  "forbidden_imports:",
  '  - from: "src.db"',
  '    names: ["async_session"]',
  '    allow_in: ["src/db/**"]',
  '    use_instead: "src.db.get_session"',
  '  - from: "src.db.legacy"',
  '    names: ["open_session"]',
  '    use_instead: "src.db.get_session"',
  '  - from: "src.db.internal"',
  '    use_instead: "src.db"',
  "",
].join("\n");

const pythonBase = {
  "poolguard.yml": pythonConfig,
  "src/__init__.py": "",
  "src/db/__init__.py": "async_session = None\n\n\ndef get_session():\n    return None\n",
  "src/db/legacy.py": "def open_session():\n    return None\n",
  "src/db/internal.py": "engine = None\n",
  "src/routes/__init__.py": "",
};

async function pythonFix(path: string, text: string) {
  const root = repo({ ...pythonBase, [path]: text });
  const before = await scan({ root, jobs: 1 });
  const imports = before.findings.filter((f) => f.rule === "forbidden-import");
  return { root, imports, fix: imports[0]?.fix ?? null };
}

describe("python use_instead fixes", () => {
  it("an unaliased import whose name is only referenced: safe, imports and call sites renamed", async () => {
    const text = [
      "from src.db import async_session",
      "",
      "",
      "async def handler():",
      "    async with async_session() as session:",
      "        return session, async_session",
      "",
    ].join("\n");
    const { root, fix } = await pythonFix("src/routes/orders.py", text);
    expect(fix?.safety).toBe("safe");
    const fixed = await scan({ root, jobs: 1, fix: "safe", writeFixes: true });
    expect(fixed.fixes?.files.map((f) => f.path)).toEqual(["src/routes/orders.py"]);
    const after = readFileSync(join(root, "src/routes/orders.py"), "utf8");
    expect(after).toBe(text.replaceAll("async_session", "get_session"));
    execFileSync("python3", ["-m", "py_compile", join(root, "src/routes/orders.py")]);
    expect((await scan({ root, jobs: 1 })).findings.filter((f) => f.rule === "forbidden-import")).toEqual([]);
  });

  it("an aliased relative import: safe, only the imported name changes", async () => {
    const text = "from ..db import async_session as raw\n\n\ndef f():\n    return raw()\n";
    const { fix } = await pythonFix("src/routes/notes.py", text);
    expect(fix?.safety).toBe("safe");
    expect(fix?.edits.map((e) => e.text)).toEqual(["get_session"]);
  });

  it("another module, one name in the statement: safe, module and name rewritten (relative stays relative)", async () => {
    const text = "from ..db.legacy import open_session\n\n\ndef f():\n    return open_session()\n";
    const { root, fix } = await pythonFix("src/routes/legacy_user.py", text);
    expect(fix?.safety).toBe("safe");
    await scan({ root, jobs: 1, fix: "safe", writeFixes: true });
    expect(readFileSync(join(root, "src/routes/legacy_user.py"), "utf8")).toBe("from ..db import get_session\n\n\ndef f():\n    return get_session()\n");
  });

  it("another module with several names in the statement: no fix (the statement would need splitting)", async () => {
    const { fix } = await pythonFix("src/routes/mixed.py", "from src.db.legacy import open_session, other\n");
    expect(fix).toBeNull();
  });

  it.each([
    ["the name is listed in __all__", 'from src.db import async_session\n\n__all__ = ["async_session"]\n'],
    ["a parameter of the same name", "from src.db import async_session\n\n\ndef f(async_session=None):\n    return async_session\n"],
    ["the name is rebound", "from src.db import async_session\n\nasync_session = async_session\n"],
    ["a for-loop target of the same name", "from src.db import async_session\n\nfor async_session in []:\n    pass\n"],
    ["an except ... as target", "from src.db import async_session\n\ntry:\n    pass\nexcept Exception as async_session:\n    pass\n"],
    ["a with ... as target", "from src.db import async_session\n\nwith open('x') as async_session:\n    pass\n"],
    ["a walrus target", "from src.db import async_session\n\nif (async_session := 1):\n    pass\n"],
    ["a comprehension variable", "from src.db import async_session\n\nx = [async_session for async_session in range(3)]\n"],
    ["a class attribute (reached as self.async_session)", "from src.db import async_session\n\n\nclass A:\n    async_session = None\n"],
    ["a lambda parameter", "from src.db import async_session\n\nf = lambda async_session: async_session\n"],
    ["another import binding it", "from src.db import async_session\nimport os as async_session\n"],
    ["an annotated assignment", "from src.db import async_session\n\nasync_session: int = 3\n"],
  ])("unsafe when the rename cannot be proved complete: %s", async (_name, text) => {
    const { root, fix } = await pythonFix("src/routes/odd.py", text);
    expect(fix?.safety).toBe("unsafe");
    // --fix without --unsafe-fixes leaves the file alone.
    await scan({ root, jobs: 1, fix: "safe", writeFixes: true });
    expect(readFileSync(join(root, "src/routes/odd.py"), "utf8")).toBe(text);
  });

  it("unsafe in a package __init__ (other modules may import the name from it)", async () => {
    const { fix } = await pythonFix("src/routes/__init__.py", "from src.db import async_session\n\n\ndef f():\n    return async_session()\n");
    expect(fix?.safety).toBe("unsafe");
  });

  it("no fix when the new name is already used in the file", async () => {
    const { fix } = await pythonFix("src/routes/taken.py", "from src.db import async_session\n\n\ndef get_session():\n    return async_session()\n");
    expect(fix).toBeNull();
  });

  it("a module ban with a module use_instead: unsafe (the new module may not export the name)", async () => {
    const { fix } = await pythonFix("src/routes/internal_user.py", "from src.db.internal import engine\n");
    expect(fix?.safety).toBe("unsafe");
    expect(fix?.edits.map((e) => e.text)).toEqual(["src.db"]);
  });
});

const typescriptConfig = [
  "forbidden_imports:",
  '  - from: "src/lib/db/legacy"',
  '    names: ["makeSession"]',
  '    allow_in: ["src/lib/db/**"]',
  '    use_instead: "src/lib/db#getSession"',
  '  - from: "@acme/old-db"',
  '    names: ["connect"]',
  '    use_instead: "@acme/db#open"',
  "",
].join("\n");

const typescriptBase = {
  "poolguard.yml": typescriptConfig,
  "src/lib/db/index.ts": "export function getSession() {\n  return {}\n}\n",
  "src/lib/db/legacy.ts": "export function makeSession() {\n  return {}\n}\n",
};

async function typescriptFix(path: string, text: string) {
  const root = repo({ ...typescriptBase, [path]: text });
  const before = await scan({ root, jobs: 1 });
  const imports = before.findings.filter((f) => f.rule === "forbidden-import");
  return { root, fix: imports[0]?.fix ?? null };
}

describe("typescript use_instead fixes", () => {
  it("a name only referenced, in a file without semicolons: safe, exact rename, style kept", async () => {
    const text = [
      "import { makeSession } from '../lib/db/legacy'",
      "",
      "export function handler() {",
      "  const session = makeSession()",
      "  return { session, makeSession }",
      "}",
      "",
    ].join("\n");
    const { root, fix } = await typescriptFix("src/routes/orders.ts", text);
    expect(fix?.safety).toBe("safe");
    await scan({ root, jobs: 1, fix: "safe", writeFixes: true });
    expect(readFileSync(join(root, "src/routes/orders.ts"), "utf8")).toBe(
      [
        "import { getSession } from '../lib/db'",
        "",
        "export function handler() {",
        "  const session = getSession()",
        "  return { session, makeSession: getSession }",
        "}",
        "",
      ].join("\n"),
    );
    const rescan = await scan({ root, jobs: 1 });
    expect(rescan.errors).toEqual([]);
    expect(rescan.findings.filter((f) => f.rule === "forbidden-import")).toEqual([]);
  });

  it("an aliased import: safe, only the imported name changes", async () => {
    const { fix } = await typescriptFix("src/routes/alias.ts", 'import { makeSession as open } from "../lib/db/legacy";\n\nexport const s = open();\n');
    expect(fix?.safety).toBe("safe");
    expect(fix?.edits.map((e) => e.text)).toEqual(['"../lib/db"', "getSession"]);
  });

  it.each([
    ["re-exported with export { }", 'import { makeSession } from "../lib/db/legacy";\n\nexport { makeSession };\n'],
    ["a parameter of the same name", 'import { makeSession } from "../lib/db/legacy";\n\nexport const f = (makeSession: () => object) => makeSession();\nexport const g = makeSession;\n'],
    ["a type member of the same name", 'import { makeSession } from "../lib/db/legacy";\n\nexport type Deps = { makeSession: typeof makeSession };\n'],
    ["a JSX prop of the same name", 'import { makeSession } from "../lib/db/legacy";\n\nexport const view = <Provider makeSession={makeSession} />;\n'],
  ])("unsafe when the rename cannot be proved complete: %s", async (_name, text) => {
    const { fix } = await typescriptFix("src/routes/odd.tsx", text);
    expect(fix?.safety).toBe("unsafe");
  });

  it("unsafe when the replacement is a package the scan cannot read", async () => {
    const { fix } = await typescriptFix("src/routes/pkg.ts", 'import { connect } from "@acme/old-db";\n\nexport const c = connect();\n');
    expect(fix?.safety).toBe("unsafe");
    expect(fix?.edits.map((e) => e.text)).toEqual(['"@acme/db"', "open", "open"]);
  });
});
