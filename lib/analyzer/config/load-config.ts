import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import type { ForbiddenImportConfig, PoolguardConfig, ResourceConfig, ResourceProtocol, RuleId, RuleLevel, TestsConfig } from "../types.ts";
import { readImportPolicies } from "./import-policies.ts";

// Where a repository's config is looked up, in order (after an explicit --config).
export const configFileNames = ["poolguard.yml", ".poolguard.yml", ".github/poolguard.yml"] as const;

const ruleLevels: readonly RuleLevel[] = ["off", "info", "warning", "error"];

/**
 * Conventional test locations (pytest, unittest, Jest, Vitest, Mocha). Findings there
 * carry a "test" tag and, by default, severity info: CI gates on production code.
 */
export const defaultTestPaths: readonly string[] = [
  "**/tests/**",
  "**/test/**",
  "**/__tests__/**",
  "**/*_test.py",
  "**/test_*.py",
  "**/conftest.py",
  "**/*.{spec,test}.{ts,tsx,mts,cts,js,jsx,mjs,cjs}",
];

export function defaultTestsConfig(): TestsConfig {
  return { paths: [...defaultTestPaths], severity: "info" };
}

const resourceProtocols: readonly ResourceProtocol[] = ["with", "async-with", "using", "await-using", "try-finally"];

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
  return { forbidden_imports: [], sessions: { factories: [], closers: [] }, rules: {}, ignore: [], resources: [], source: null };
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
  const display = path && (relative(root, path).startsWith("..") ? path : relative(root, path).replaceAll("\\", "/"));
  const config = path && display ? parseConfig(readFileSync(path, "utf8"), display, options.knownRules) : defaultConfig();
  // Bans the repository already states (import-linter contracts, ESLint rules) join the config's own.
  const policies = readImportPolicies(root, config.import_policies ?? { import_linter: true, eslint: true });
  config.forbidden_imports.push(...policies.bans);
  if (policies.notes.length > 0) config.notes = [...(config.notes ?? []), ...policies.notes];
  return config;
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
    } else if (name === "resources") {
      if (!isSeq(value)) fail("resources", value ?? keyNode, "expected a list of entries (acquire, release)");
      config.resources = (value as unknown as { items: unknown[] }).items.map((item, i) => resource(`resources[${i}]`, item as Node));
    } else if (name === "tests") {
      config.tests = tests(value, keyNode);
    } else if (name === "import_policies") {
      config.import_policies = importPolicies(value, keyNode);
    } else fail(name, keyNode, "unknown key (expected forbidden_imports, import_policies, sessions, resources, rules, tests or ignore)");
  }
  return config;

  /** `tests: { paths: [globs], severity: info | warning | error | off }`; each key optional. */
  function tests(value: Node | null, keyNode: Node): TestsConfig {
    const result = defaultTestsConfig();
    for (const entry of mapEntries("tests", value ?? keyNode)) {
      if (entry.name === "paths") result.paths = stringList("tests.paths", entry.value);
      else if (entry.name === "severity") {
        const level = isScalar(entry.value) ? entry.value.value : undefined;
        const normalized = level === false ? "off" : level;
        if (!ruleLevels.includes(normalized as RuleLevel)) fail("tests.severity", entry.value ?? entry.keyNode, "expected off, info, warning or error");
        result.severity = normalized as RuleLevel;
      } else fail(`tests.${entry.name}`, entry.keyNode, "unknown key (expected paths or severity)");
    }
    return result;
  }

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
      else if (name === "in") {
        entry.in = stringList(`${key}.in`, value);
        if (entry.in.length === 0) fail(`${key}.in`, value, "expected at least one glob (leave the key out to ban everywhere)");
      }
      else if (name === "use_instead") entry.use_instead = scalarString();
      else if (name === "message") entry.message = scalarString();
      else if (name === "allow_type_imports") {
        if (!isScalar(value) || typeof value.value !== "boolean") fail(`${key}.allow_type_imports`, value ?? keyNode, "expected true or false");
        entry.allow_type_imports = (value as { value: boolean }).value;
      } else fail(`${key}.${name}`, keyNode, "unknown key (expected from, names, in, allow_in, use_instead, message, allow_type_imports)");
    }
    if (!sawFrom) fail(`${key}.from`, node, "missing (the module or path to ban)");
    return entry;
  }

  /** A user's acquire/release pair: `{ acquire, release, rule?, awaited?, protocols? }`. */
  function resource(key: string, node: Node): ResourceConfig {
    const entry: ResourceConfig = { acquire: "", release: [], line: lineOf(node) };
    let sawAcquire = false;
    let sawRelease = false;
    for (const { name, keyNode, value } of mapEntries(key, node)) {
      if (name === "acquire") {
        if (!isScalar(value) || typeof value.value !== "string" || value.value === "") fail(`${key}.acquire`, value ?? keyNode, "expected a non-empty string (the callable that returns the resource)");
        entry.acquire = (value as { value: string }).value;
        sawAcquire = true;
      } else if (name === "release") {
        entry.release = isScalar(value) && typeof value.value === "string" && value.value !== "" ? [value.value] : stringList(`${key}.release`, value);
        if (entry.release.length === 0) fail(`${key}.release`, value, "expected at least one method name or function");
        sawRelease = true;
      } else if (name === "rule") {
        const rule = isScalar(value) ? value.value : undefined;
        if (typeof rule !== "string" || !knownRules.includes(rule as RuleId) || rule === "forbidden-import") fail(`${key}.rule`, value ?? keyNode, "expected a lifecycle rule id");
        entry.rule = rule as RuleId;
      } else if (name === "awaited") {
        if (!isScalar(value) || typeof value.value !== "boolean") fail(`${key}.awaited`, value ?? keyNode, "expected true or false");
        entry.awaited = (value as { value: boolean }).value;
      } else if (name === "protocols") {
        const protocols = stringList(`${key}.protocols`, value);
        protocols.forEach((p, i) => {
          if (!resourceProtocols.includes(p as ResourceProtocol)) fail(`${key}.protocols[${i}]`, (value as unknown as { items: Node[] }).items[i], `expected one of ${resourceProtocols.join(", ")}`);
        });
        entry.protocols = protocols as ResourceProtocol[];
      } else fail(`${key}.${name}`, keyNode, "unknown key (expected acquire, release, rule, awaited, protocols)");
    }
    if (!sawAcquire) fail(`${key}.acquire`, node, "missing (the callable that returns the resource)");
    if (!sawRelease) fail(`${key}.release`, node, "missing (method names or functions that release it)");
    return entry;
  }

  /** `import_policies: false` or `{ import_linter: bool, eslint: bool }` (each defaults to true). */
  function importPolicies(value: Node | null, keyNode: Node) {
    const policies = { import_linter: true, eslint: true };
    if (isScalar(value) && typeof value.value === "boolean") return { import_linter: value.value, eslint: value.value };
    for (const entry of mapEntries("import_policies", value ?? keyNode)) {
      if (entry.name !== "import_linter" && entry.name !== "eslint") fail(`import_policies.${entry.name}`, entry.keyNode, "unknown key (expected import_linter or eslint)");
      if (!isScalar(entry.value) || typeof entry.value.value !== "boolean") fail(`import_policies.${entry.name}`, entry.value ?? entry.keyNode, "expected true or false");
      policies[entry.name as "import_linter" | "eslint"] = (entry.value as { value: boolean }).value;
    }
    return policies;
  }
}
