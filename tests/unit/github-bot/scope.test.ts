import { describe, expect, it } from "vitest";
import { reviewScope } from "../../../lib/github-bot/scope.ts";

// What a review indexes at a commit: the changed files, what they import (transitively),
// project files, and Python files that keep a factory on an attribute or key.

const texts = (files: Record<string, string>) => new Map(Object.entries(files));

describe("reviewScope", () => {
  it("follows Python imports transitively, absolute and relative, with the packages on the way", () => {
    const files = texts({
      "app/__init__.py": "",
      "app/db.py": "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n",
      "app/helpers.py": "from .db import SessionLocal\n\ndef get_session():\n    return SessionLocal()\n",
      "app/routes/__init__.py": "",
      "app/routes/users.py": "from ..helpers import get_session\n",
      "app/routes/orders.py": "import app.helpers as h\n",
      "app/unrelated.py": "def f():\n    return 1\n",
      "scripts/tool.py": "import os\n",
    });
    expect([...reviewScope(files, ["app/routes/users.py"])].sort()).toEqual(["app/__init__.py", "app/db.py", "app/helpers.py", "app/routes/users.py"]);
    expect([...reviewScope(files, ["app/routes/orders.py"])].sort()).toEqual(["app/__init__.py", "app/db.py", "app/helpers.py", "app/routes/orders.py"]);
  });

  it("resolves `from pkg import module` to the module, parenthesised names included", () => {
    const files = texts({ "pkg/__init__.py": "", "pkg/store.py": "x = 1\n", "pkg/cache.py": "y = 2\n", "main.py": "from pkg import (\n    store,\n    cache as c,\n)\n" });
    expect([...reviewScope(files, ["main.py"])].sort()).toEqual(["main.py", "pkg/__init__.py", "pkg/cache.py", "pkg/store.py"]);
  });

  it("keeps Python files that store a factory on an attribute or key, wherever they are", () => {
    const files = texts({ "app/main.py": "app.state.db = sessionmaker(bind=engine)\n", "app/other.py": "x = 1\n", "app/route.py": "def r(request):\n    return request.app.state.db()\n" });
    expect([...reviewScope(files, ["app/route.py"])].sort()).toEqual(["app/main.py", "app/route.py"]);
  });

  it("follows relative, extensionless, .js-for-.ts and path-alias imports in TypeScript, and keeps project files", () => {
    const files = texts({
      "package.json": "{}",
      "tsconfig.json": "{}",
      "src/lib/db.ts": "import { Pool } from 'pg';\nexport const pool = new Pool();\n",
      "src/lib/index.ts": "export * from './db.js';\n",
      "src/app/api/route.ts": 'import { pool } from "@/lib";\nconst m = await import("../../util/helpers");\n',
      "src/util/helpers.ts": "export const x = require('./deep');\n",
      "src/util/deep.js": "module.exports = 1;\n",
      "src/other.ts": "export const y = 2;\n",
    });
    expect([...reviewScope(files, ["src/app/api/route.ts"])].sort()).toEqual(["package.json", "src/app/api/route.ts", "src/lib/db.ts", "src/lib/index.ts", "src/util/deep.js", "src/util/helpers.ts", "tsconfig.json"]);
  });

  it("leaves out changed files that the commit does not have (deleted)", () => {
    expect([...reviewScope(texts({ "a.py": "" }), ["gone.py", "a.py"])]).toEqual(["a.py"]);
  });
});
