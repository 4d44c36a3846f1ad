import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { ConfigNote, ForbiddenImportConfig } from "../types.ts";
import { readPolicyFile } from "./literal-values.ts";

// import-linter contracts of type `forbidden` (https://import-linter.readthedocs.io):
// `source_modules` (and their submodules) may not import `forbidden_modules` (and their
// submodules). Poolguard checks direct imports only, so `allow_indirect_imports` changes
// nothing here; `ignore_imports` lines (`importer -> imported`) are respected.

type RawContract = { fields: Record<string, string | string[] | boolean>; file: string; line: number };

type Section = { name: string; line: number; values: Record<string, string> };

/** configparser's dialect, as far as import-linter uses it: sections, `key = value`, indented continuation lines. */
export function parseIni(text: string): Section[] {
  const sections: Section[] = [];
  let current: Section | null = null;
  let lastKey: string | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) return;
    const header = /^\[([^\]]+)\]\s*$/.exec(trimmed);
    if (header && !/^\s/.test(raw)) {
      current = { name: header[1].trim(), line: index + 1, values: {} };
      sections.push(current);
      lastKey = null;
      return;
    }
    if (!current) return;
    const section: Section = current;
    if (/^\s/.test(raw) && lastKey !== null) {
      section.values[lastKey] += `\n${trimmed}`;
      return;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!pair) return;
    lastKey = pair[1].toLowerCase();
    section.values[lastKey] = pair[2];
  });
  return sections;
}

function iniValue(value: string): string | string[] {
  if (!value.includes("\n")) return value.trim();
  return value
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

function listOf(value: string | string[] | boolean | undefined): string[] {
  if (value === undefined || typeof value === "boolean") return [];
  return (Array.isArray(value) ? value : [value]).map((item) => item.trim()).filter(Boolean);
}

function flag(value: string | string[] | boolean | undefined, fallback: boolean): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return !/^(false|no|off|0)$/i.test(value.trim());
  return fallback;
}

function fromIni(text: string, file: string): { roots: string[]; contracts: RawContract[] } | null {
  const sections = parseIni(text);
  const main = sections.find((section) => section.name === "importlinter");
  if (!main) return null;
  const roots = [...listOf(iniValue(main.values.root_package ?? "")), ...listOf(iniValue(main.values.root_packages ?? ""))];
  const contracts = sections
    .filter((section) => section.name.startsWith("importlinter:contract:"))
    .map((section) => ({
      fields: Object.fromEntries(Object.entries(section.values).map(([key, value]) => [key, iniValue(value)])),
      file,
      line: section.line,
    }));
  return { roots, contracts };
}

function fromPyproject(text: string, file: string, notes: ConfigNote[]): { roots: string[]; contracts: RawContract[] } | null {
  if (!/^\s*\[\s*\[?\s*tool\.importlinter/m.test(text)) return null;
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    notes.push({ path: file, line: 1, message: `import-linter contracts not read: the file is not valid TOML (${(error as Error).message.split("\n")[0]})` });
    return null;
  }
  const tool = (data.tool as Record<string, unknown> | undefined)?.importlinter as Record<string, unknown> | undefined;
  if (!tool) return null;
  const lines = text.split(/\r?\n/);
  const headerLines = lines.flatMap((line, i) => (/^\s*\[\[\s*tool\.importlinter\.contracts\s*\]\]/.test(line) ? [i + 1] : []));
  const mainLine = lines.findIndex((line) => /^\s*\[\s*tool\.importlinter\s*\]/.test(line)) + 1 || 1;
  const asField = (value: unknown): string | string[] | boolean | undefined => {
    if (typeof value === "string" || typeof value === "boolean") return value;
    if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
    return undefined;
  };
  const roots = [...listOf(asField(tool.root_package)), ...listOf(asField(tool.root_packages))];
  const list = Array.isArray(tool.contracts) ? (tool.contracts as Record<string, unknown>[]) : [];
  const contracts = list.map((contract, i) => ({
    fields: Object.fromEntries(Object.entries(contract).map(([key, value]) => [key, asField(value) ?? ""])),
    file,
    line: headerLines[i] ?? mainLine,
  }));
  return { roots, contracts };
}

function parseIgnore(line: string): { importer: string; imported: string } | null {
  const match = /^(.+?)\s*->\s*(.+?)(\s+#.*)?$/.exec(line.trim());
  return match ? { importer: match[1].trim(), imported: match[2].trim() } : null;
}

/**
 * Forbidden contracts of the repository's import-linter configuration, as bans. Like
 * import-linter, the first of `setup.cfg`, `.importlinter`, `pyproject.toml` that holds
 * an import-linter section is the configuration; contracts of other types (layers,
 * independence) are not bans.
 */
export function importLinterBans(root: string, dir: string, notes: ConfigNote[]): ForbiddenImportConfig[] {
  for (const name of ["setup.cfg", ".importlinter", "pyproject.toml"]) {
    const text = readPolicyFile(dir ? join(root, dir) : root, name);
    if (text === null) continue;
    const file = dir ? `${dir}/${name}` : name;
    const read = name === "pyproject.toml" ? fromPyproject(text, file, notes) : fromIni(text, file);
    if (!read) continue;
    // A project in a folder: its contracts cover the files below it.
    return contractBans(read, notes).map((ban) => (dir ? { ...ban, in: [`${dir}/**`] } : ban));
  }
  return [];
}

function contractBans(read: { roots: string[]; contracts: RawContract[] }, notes: ConfigNote[]): ForbiddenImportConfig[] {
  const bans: ForbiddenImportConfig[] = [];
  for (const contract of read.contracts) {
    const type = contract.fields.type;
    if (type !== "forbidden") continue;
    const name = typeof contract.fields.name === "string" && contract.fields.name ? contract.fields.name : (contract.fields.id as string) || "forbidden";
    const sources = listOf(contract.fields.source_modules);
    const forbidden = listOf(contract.fields.forbidden_modules);
    if (sources.length === 0 || forbidden.length === 0) {
      notes.push({ path: contract.file, line: contract.line, message: `import-linter contract "${name}" has no source_modules or forbidden_modules; not read` });
      continue;
    }
    const ignores: { importer: string; imported: string }[] = [];
    for (const line of listOf(contract.fields.ignore_imports)) {
      const parsed = parseIgnore(line);
      if (parsed) ignores.push(parsed);
      else notes.push({ path: contract.file, line: contract.line, message: `import-linter contract "${name}": ignore_imports line "${line}" not understood; ignored` });
    }
    bans.push({
      from: forbidden.join(", "),
      line: contract.line,
      policy: {
        kind: "import-linter-forbidden",
        origin: { file: contract.file, line: contract.line, tool: "import-linter", name },
        source_modules: sources,
        forbidden_modules: forbidden,
        ignore_imports: ignores,
        as_packages: flag(contract.fields.as_packages, true),
        root_packages: read.roots,
      },
    });
  }
  return bans;
}
