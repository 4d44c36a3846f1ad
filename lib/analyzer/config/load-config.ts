import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import type { ForbiddenImportConfig, PoolguardConfig, RuleId, RuleLevel } from "../types.ts";

// Where a repository's config is looked up, in order (after an explicit --config).
export const configFileNames = ["poolguard.yml", ".poolguard.yml", ".github/poolguard.yml"] as const;

const ruleLevels: readonly RuleLevel[] = ["off", "info", "warning", "error"];

/** A config problem, always naming the file, the key and the line. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${key ? `${key}: ` : ""}${problem}`);
    this.name = "ConfigError";
  }
}

export function defaultConfig(): PoolguardConfig {
  return { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], source: null };
}

export function findConfigFile(root: string, explicit?: string): string | null {
  if (explicit) {
    const path = isAbsolute(explicit) ? explicit : join(process.cwd(), explicit);
    if (!existsSync(path)) throw new ConfigError(explicit, "", 0, "config file not found");
    return path;
  }
  for (const name of configFileNames) {
    const path = join(root, name);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * Load and validate the repository's config. Nothing is scanned with a half-read
 * config: any problem throws a ConfigError.
 */
export function loadConfig(root: string, options: { configPath?: string; knownRules: readonly RuleId[] }): PoolguardConfig {
  const path = findConfigFile(root, options.configPath);
  if (!path) return defaultConfig();
  const display = relative(root, path).startsWith("..") ? path : relative(root, path).replaceAll("\\", "/");
  return parseConfig(readFileSync(path, "utf8"), display, options.knownRules);
}

export function parseConfig(text: string, file: string, knownRules: readonly RuleId[]): PoolguardConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const fail = (key: string, node: Node | null | undefined, problem: string): never => {
    throw new ConfigError(file, key, lineOf(node), problem);
  };
  if (document.errors.length > 0) {
    const error = document.errors[0];
    throw new ConfigError(file, "", error.linePos?.[0]?.line ?? 1, `invalid YAML: ${error.message.split("\n")[0]}`);
  }
  const config = defaultConfig();
  config.source = file;
  const contents = document.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return config;
  if (!isMap(contents)) return fail("", contents, "the file must be a mapping of keys (forbidden_imports, sessions, rules, ignore)");

  const stringList = (key: string, node: unknown): string[] => {
    if (!isSeq(node)) return fail(key, node as Node, "expected a list of strings");
    return node.items.map((item, i) => {
      if (!isScalar(item) || typeof item.value !== "string" || item.value === "") return fail(`${key}[${i}]`, item as Node, "expected a non-empty string");
      return item.value;
    });
  };
  const mapEntries = (key: string, node: unknown) => {
    if (!isMap(node)) return fail(key, node as Node, "expected a mapping");
    return (node as YAMLMap).items.map((pair) => {
      const keyNode = pair.key as Node;
      if (!isScalar(keyNode) || typeof keyNode.value !== "string") return fail(key, keyNode, "keys must be strings");
      return { name: keyNode.value as string, keyNode, value: pair.value as Node | null };
    });
  };

  for (const { name, keyNode, value } of mapEntries("", contents)) {
    if (name === "ignore") config.ignore = stringList("ignore", value);
    else if (name === "forbidden_imports") {
      if (!isSeq(value)) fail("forbidden_imports", value ?? keyNode, "expected a list of entries");
      config.forbidden_imports = (value as unknown as { items: unknown[] }).items.map((item, i) => forbiddenImport(`forbidden_imports[${i}]`, item as Node));
    } else if (name === "sessions") {
      for (const entry of mapEntries("sessions", value ?? keyNode)) {
        if (entry.name === "factories") config.sessions.factories = stringList("sessions.factories", entry.value);
        else if (entry.name === "closers") config.sessions.closers = stringList("sessions.closers", entry.value);
        else fail(`sessions.${entry.name}`, entry.keyNode, "unknown key (expected factories or closers)");
      }
    } else if (name === "rules") {
      for (const entry of mapEntries("rules", value ?? keyNode)) {
        if (!knownRules.includes(entry.name as RuleId)) fail(`rules.${entry.name}`, entry.keyNode, `unknown rule id (known: ${knownRules.join(", ")})`);
        const level = isScalar(entry.value) ? entry.value.value : undefined;
        // YAML 1.1 readers turn a bare `off` into false; accept both spellings.
        const normalized = level === false ? "off" : level;
        if (!ruleLevels.includes(normalized as RuleLevel)) fail(`rules.${entry.name}`, entry.value ?? entry.keyNode, "expected off, info, warning or error");
        config.rules[entry.name as RuleId] = normalized as RuleLevel;
      }
    } else fail(name, keyNode, "unknown key (expected forbidden_imports, sessions, rules or ignore)");
  }
  return config;

  function forbiddenImport(key: string, node: Node): ForbiddenImportConfig {
    const entry: ForbiddenImportConfig = { from: "", line: lineOf(node) };
    let sawFrom = false;
    for (const { name, keyNode, value } of mapEntries(key, node)) {
      const scalarString = () => {
        if (!isScalar(value) || typeof value.value !== "string" || value.value === "") return fail(`${key}.${name}`, value ?? keyNode, "expected a non-empty string");
        return value.value;
      };
      if (name === "from") {
        entry.from = scalarString();
        sawFrom = true;
      } else if (name === "names") entry.names = stringList(`${key}.names`, value);
      else if (name === "allow_in") entry.allow_in = stringList(`${key}.allow_in`, value);
      else if (name === "use_instead") entry.use_instead = scalarString();
      else if (name === "message") entry.message = scalarString();
      else if (name === "allow_type_imports") {
        if (!isScalar(value) || typeof value.value !== "boolean") fail(`${key}.allow_type_imports`, value ?? keyNode, "expected true or false");
        entry.allow_type_imports = (value as { value: boolean }).value;
      } else fail(`${key}.${name}`, keyNode, "unknown key (expected from, names, allow_in, use_instead, message, allow_type_imports)");
    }
    if (!sawFrom) fail(`${key}.from`, node, "missing (the module or path to ban)");
    return entry;
  }
}
