import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// A generated repository for pipeline tests and the benchmark: TypeScript and Python
// modules of ordinary code in which every `leakEvery`-th function leaks a pooled
// connection or a session, so the expected findings are known.

export type GeneratedRepo = { files: number; lines: number; leaks: number };

function tsModule(index: number, functions: number, leakEvery: number): { text: string; leaks: number } {
  const out = [`import { pool } from "./db";`, ""];
  let leaks = 0;
  for (let f = 0; f < functions; f++) {
    const name = `load_${index}_${f}`;
    if (f % leakEvery === 0) {
      leaks++;
      out.push(
        `export async function ${name}(id: string) {`,
        "  const client = await pool.connect();",
        `  const result = await client.query("SELECT * FROM t${f} WHERE id = $1", [id]);`,
        "  client.release();",
        "  return result.rows;",
        "}",
        "",
      );
    } else {
      out.push(
        `export async function ${name}(id: string) {`,
        "  const client = await pool.connect();",
        "  try {",
        `    const result = await client.query("SELECT * FROM t${f} WHERE id = $1", [id]);`,
        "    return result.rows.map((row) => ({ ...row, seen: true }));",
        "  } finally {",
        "    client.release();",
        "  }",
        "}",
        "",
      );
    }
  }
  return { text: out.join("\n"), leaks };
}

function pyModule(index: number, functions: number, leakEvery: number): { text: string; leaks: number } {
  const out = ["from sqlalchemy.orm import sessionmaker", "", "from app.db import engine", "", "Session = sessionmaker(bind=engine)", "", ""];
  let leaks = 0;
  for (let f = 0; f < functions; f++) {
    const name = `load_${index}_${f}`;
    if (f % leakEvery === 0) {
      leaks++;
      out.push(`def ${name}(item_id):`, "    session = Session()", `    row = session.get(Item${f}, item_id)`, "    return row", "", "");
    } else {
      out.push(`def ${name}(item_id):`, "    with Session() as session:", `        row = session.get(Item${f}, item_id)`, "        return row", "", "");
    }
  }
  return { text: out.join("\n"), leaks };
}

/**
 * Write `files` modules (half TypeScript, half Python) of `functionsPerFile` functions
 * under DIR. Returns the line count and how many leaks were planted.
 */
export function writeGeneratedRepo(dir: string, { files, functionsPerFile = 20, leakEvery = 10 }: { files: number; functionsPerFile?: number; leakEvery?: number }): GeneratedRepo {
  mkdirSync(join(dir, "web"), { recursive: true });
  mkdirSync(join(dir, "app"), { recursive: true });
  writeFileSync(join(dir, "web", "db.ts"), 'import { Pool } from "pg";\n\nexport const pool = new Pool();\n');
  writeFileSync(join(dir, "app", "__init__.py"), "");
  writeFileSync(join(dir, "app", "db.py"), 'from sqlalchemy import create_engine\n\nengine = create_engine("postgresql://app@localhost/app")\n');
  let lines = 5;
  let leaks = 0;
  for (let i = 0; i < files; i++) {
    const sub = `m${Math.floor(i / 100)}`;
    const isTs = i % 2 === 0;
    const module = isTs ? tsModule(i, functionsPerFile, leakEvery) : pyModule(i, functionsPerFile, leakEvery);
    const folder = join(dir, isTs ? "web" : "app", sub);
    mkdirSync(folder, { recursive: true });
    if (!isTs) writeFileSync(join(folder, "__init__.py"), "");
    writeFileSync(join(folder, `mod_${i}.${isTs ? "ts" : "py"}`), module.text.replace('from "./db"', 'from "../db"'));
    lines += module.text.split("\n").length;
    leaks += module.leaks;
  }
  return { files: files + 3, lines, leaks };
}
