// The analyzer's shared contract. The engine (discovery, workers, suppressions,
// fingerprints, fixes, output), the language plugins (python/, typescript/) and every
// consumer (CLI, job worker, web app) speak these types and nothing else.
// Everything here must stay structured-cloneable: it crosses worker-thread boundaries.

export type Language = "python" | "typescript";

export type Severity = "info" | "warning" | "error";

/** A severity or "off", as written under `rules:` in the config file. */
export type RuleLevel = Severity | "off";

export type FixSafety = "safe" | "unsafe";

export type PythonRuleId =
  | "session-not-closed"
  | "session-used-after-close"
  | "session-dependency-not-closed"
  | "manual-aenter"
  | "connection-not-closed"
  | "engine-per-call"
  | "session-shared-across-tasks"
  | "shared-module-session";

export type TypeScriptRuleId =
  | "pool-client-not-released"
  | "query-runner-not-released"
  | "prisma-client-per-call"
  | "mongoose-session-not-ended"
  | "transaction-not-finished";

export type RuleId = PythonRuleId | TypeScriptRuleId | "forbidden-import";

/** 1-based line and column (columns count UTF-16 code units, as editors and SARIF do). */
export interface Position {
  line: number;
  column: number;
}

export interface TextEdit {
  /** Repository-relative path with forward slashes. */
  path: string;
  start: Position;
  end: Position;
  text: string;
}

export interface Fix {
  safety: FixSafety;
  description: string;
  edits: TextEdit[];
}

/** What a rule reports; the engine adds path, severity, fingerprint and suppression. */
export interface RawFinding {
  rule: RuleId;
  message: string;
  start: Position;
  end: Position;
  fix: Fix | null;
  /**
   * Stable name of the enclosing scope (e.g. "ChannelHandlers.add_channel" or
   * "module"). Feeds the fingerprint so it survives line shifts.
   */
  scope: string;
}

/** The public finding shape (the CLI's JSON contract in docs/cli.md). */
export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  path: string;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  fingerprint: string;
  suppressed: boolean;
  fix: Fix | null;
  /** Present only when there is one: "test" marks findings in test code (config `tests:`). */
  tags?: FindingTag[];
}

export type FindingTag = "test";

export interface ScanError {
  path: string;
  message: string;
}

export interface SkippedFile {
  path: string;
  reason: "gitignored" | "config-ignore" | "vendored" | "generated" | "minified" | "binary" | "too-large";
}

export interface ForbiddenImportConfig {
  /** Python dotted module or TS specifier / repository path; "pkg.*" bans a subtree. */
  from: string;
  names?: string[];
  /** Globs: when given, the ban applies only to files matching them (and not matching `allow_in`). */
  in?: string[];
  allow_in?: string[];
  use_instead?: string;
  message?: string;
  /** TypeScript: let type-only imports through (they vanish at compile time). Default false. */
  allow_type_imports?: boolean;
  /** Line in the config file where this entry starts (for messages). */
  line?: number;
  /** Set on bans read from a policy the repository already states (import-linter, ESLint). */
  policy?: DerivedImportPolicy;
}

/** Where a derived ban was stated: the file, the line and the tool's own name for it. */
export interface PolicyOrigin {
  file: string;
  line: number;
  tool: "import-linter" | "eslint";
  /** import-linter contract name, or the ESLint rule id. */
  name: string;
}

/** How a derived ban matches, in the terms of the tool that states it. */
export type DerivedImportPolicy =
  | {
      kind: "import-linter-forbidden";
      origin: PolicyOrigin;
      /** Importers: these modules (and, with as_packages, their submodules); `*` and `**` wildcards. */
      source_modules: string[];
      forbidden_modules: string[];
      ignore_imports: { importer: string; imported: string }[];
      as_packages: boolean;
      root_packages: string[];
    }
  | {
      kind: "eslint-restricted-import";
      origin: PolicyOrigin;
      /** Exactly this specifier (`paths[].name`), gitignore-style `group` patterns, or a `regex`. */
      name?: string;
      group?: string[];
      regex?: string;
      case_sensitive: boolean;
      import_names?: string[];
      allow_import_names?: string[];
      import_name_pattern?: string;
      allow_import_name_pattern?: string;
      allow_type_imports: boolean;
    }
  | {
      kind: "eslint-restricted-path";
      origin: PolicyOrigin;
      /** Importing files: repository paths (a folder contains its files) or globs. */
      target: string[];
      /** What they may not import: repository paths or globs, minus `except`. */
      from: string[];
      except: string[];
    };

/** Which of the repository's own import policies are read into bans (config `import_policies`). */
export interface ImportPoliciesConfig {
  import_linter: boolean;
  eslint: boolean;
}

/** Something skipped while reading a policy file (not an error): shown as a scan warning. */
export interface ConfigNote {
  path: string;
  line: number;
  message: string;
}

/** A protocol a resource supports, which a safe fix may rely on. */
export type ResourceProtocol = "with" | "async-with" | "using" | "await-using" | "try-finally";

/** One `resources:` entry: a callable that acquires a resource and how it is released. */
export interface ResourceConfig {
  /** Qualified callable returning the resource: "myapp.db.open_session" (Python) or "lib/db#openClient" (TS). */
  acquire: string;
  /** Method names on the resource (`close`), or qualified functions taking it as first argument, that release it. */
  release: string[];
  /** The rule that reports a leak (default: session-not-closed / pool-client-not-released). */
  rule?: RuleId;
  /** The acquiring call must be awaited. */
  awaited?: boolean;
  /** Protocols the resource supports (default: none, so no safe `with` fix). */
  protocols?: ResourceProtocol[];
  /** Line in the config file where this entry starts (for messages). */
  line?: number;
}

export interface PoolguardConfig {
  forbidden_imports: ForbiddenImportConfig[];
  sessions: {
    factories: string[];
    closers: string[];
  };
  rules: Partial<Record<RuleId, RuleLevel>>;
  ignore: string[];
  /** Users' own acquire/release pairs (`resources:`); read as library models by the lifecycle rules. */
  resources?: ResourceConfig[];
  /** Default: both on. */
  import_policies?: ImportPoliciesConfig;
  /** Notes from reading import policies (parts that could not be read statically). */
  notes?: ConfigNote[];
  /** Test code (`tests:`): which files, and the severity their findings get. Default in load-config.ts. */
  tests?: TestsConfig;
  /** Path of the file it was read from, relative to the root; null when defaults. */
  source: string | null;
}

export interface TestsConfig {
  /** Globs (repository-relative) of test files; they replace the conventional defaults. */
  paths: string[];
  /** Severity of every finding in test files; "off" drops them. */
  severity: RuleLevel;
}

/** A file handed to a language plugin. `path` is repository-relative. */
export interface SourceInput {
  path: string;
  text: string;
}

export interface FileAnalysis {
  findings: RawFinding[];
  /** Set when the file does not parse; the engine reports it in `errors`. */
  error?: string;
  /** Parts of the file that were analysed only partly (a function too large to follow); reported as scan warnings. */
  warnings?: { line: number; message: string }[];
}

export interface AnalyzeOptions {
  config: PoolguardConfig;
  /** Rules to run (already filtered by config `rules: off`). */
  enabledRules: ReadonlySet<RuleId>;
}

/**
 * A language plugin. `buildIndex` sees every file of its language in the repository
 * (cross-file facts: session factories, singletons, import aliases) and returns a
 * structured-cloneable index handed to every `analyzeFile` call, possibly in another
 * worker thread.
 */
/** What a plugin's buildIndex parsed, by path, for the analysis in the same process. */
export type ParsedFiles = Map<string, unknown>;

export interface LanguagePlugin<Index = unknown> {
  language: Language;
  extensions: readonly string[];
  rules: readonly RuleMeta[];
  /**
   * PARSED, when given, receives what the build parsed and still holds, by path (opaque to
   * the engine), for the analysis of those files in the same process: parse once.
   */
  buildIndex(files: readonly SourceInput[], options: AnalyzeOptions, parsed?: ParsedFiles): Index;
  /** PARSED: buildIndex's entry for this file's path, in the same process (used only if it is for this very text). */
  analyzeFile(file: SourceInput, index: Index, options: AnalyzeOptions, parsed?: unknown): FileAnalysis;
  /** Parse and discard, for benchmarks (the parse-only floor). */
  parseOnly(file: SourceInput): void;
  /**
   * Optional: the part of analyzeFile that needs no index (the parse's syntax check of a
   * file that names nothing the rules look for), so the engine can run it on an idle core
   * while the index is built. Null when the file needs the full analysis.
   */
  precheck?(file: SourceInput, options: AnalyzeOptions): FileAnalysis | null;
  /** With precheck: the file's analysis once the index is known (the precheck's answer when it stands), or null to analyse it. */
  afterPrecheck?(file: SourceInput, prechecked: FileAnalysis, index: Index, options: AnalyzeOptions): FileAnalysis | null;
}

export interface RuleMeta {
  id: RuleId;
  languages: readonly Language[];
  defaultSeverity: Severity;
  /** Strongest fix the rule can offer. */
  fix: FixSafety | "none";
  /** One line, shown in listings and SARIF shortDescription. */
  summary: string;
}

export interface ScanResult {
  tool: { name: "poolguard"; version: string };
  root: string;
  files_scanned: number;
  duration_ms: number;
  findings: Finding[];
  errors: ScanError[];
}
