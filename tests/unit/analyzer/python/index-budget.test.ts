import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { buildPythonIndex } from "../../../../lib/analyzer/python/build-index.ts";
import type { AnalyzeOptions, SourceInput } from "../../../../lib/analyzer/types.ts";

// The Python index keeps parsed trees only up to a source-size budget and parses a file
// again when a later pass needs it (memory on big repositories). Any budget must give
// exactly the same index.

const ROOT = new URL("../../../fixtures/python/", import.meta.url).pathname;

function sources(dir: string): SourceInput[] {
  const out: SourceInput[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (name.endsWith(".py")) out.push({ path: relative(ROOT, full), text: readFileSync(full, "utf8") });
  }
  return out;
}

const options = (): AnalyzeOptions => ({ config: defaultConfig(), enabledRules: new Set() });

// A project whose facts need several rounds and fixpoint passes: a wrapper of a wrapper
// of a factory, spread over modules parsed in different rounds, so summaries computed
// late need trees of files parsed early.
function layeredProject(layers: number, filler: number): SourceInput[] {
  const files: SourceInput[] = [
    { path: "app/__init__.py", text: "" },
    {
      path: "app/db.py",
      text: [
        "from sqlalchemy import create_engine",
        "from sqlalchemy.orm import sessionmaker",
        "engine = create_engine('sqlite://')",
        "SessionFactory = sessionmaker(bind=engine)",
        "def open_connection():",
        "    return engine.connect()",
        "def close_connection(conn):",
        "    conn.close()",
      ].join("\n"),
    },
  ];
  for (let i = 0; i < layers; i++) {
    const inner = i === 0 ? ["app.db", "open_connection"] : [`app.layer${i - 1}`, `acquire_layer${i - 1}`];
    files.push({
      path: `app/layer${i}.py`,
      text: [
        `from ${inner[0]} import ${inner[1]}`,
        "from app.db import close_connection, SessionFactory",
        `def acquire_layer${i}():`,
        `    return ${inner[1]}()`,
        `def release_layer${i}(conn):`,
        "    close_connection(conn)",
        `class Repository${i}:`,
        "    def __init__(self):",
        "        self.factory = SessionFactory",
        "    def session(self):",
        "        return self.factory()",
        ...Array.from({ length: filler }, (_, k) => `def helper_${i}_${k}(items):\n    items.append(${k})\n    return len(items)`),
      ].join("\n"),
    });
  }
  return files;
}

describe("Python index under a tree budget", () => {
  it("gives the same index on the fixtures whether every tree is kept or none is", () => {
    const files = sources(ROOT);
    expect(files.length).toBeGreaterThan(20);
    const kept = buildPythonIndex(files, options(), { keptSourceBytes: Number.POSITIVE_INFINITY });
    expect(Object.keys(kept.summaries).length).toBeGreaterThan(0);
    expect(Object.keys(kept.modules).length).toBeGreaterThan(0);
    for (const budget of [0, 4096]) {
      expect(JSON.stringify(buildPythonIndex(files, options(), { keptSourceBytes: budget }))).toBe(JSON.stringify(kept));
    }
  });

  it("gives the same index on a project solved over several rounds", () => {
    const files = layeredProject(6, 40);
    const kept = buildPythonIndex(files, options(), { keptSourceBytes: Number.POSITIVE_INFINITY });
    // The last layer's wrapper is known to return a fresh connection only through every layer below it.
    expect(kept.summaries["app.layer5.acquire_layer5"]).toMatchObject({ returnsFresh: "sqlalchemy.engine.Connection" });
    expect(kept.summaries["app.layer5.release_layer5"]).toMatchObject({ releasesParams: [0] });
    for (const budget of [0, 2048]) {
      expect(JSON.stringify(buildPythonIndex(files, options(), { keptSourceBytes: budget }))).toBe(JSON.stringify(kept));
    }
  });
});
