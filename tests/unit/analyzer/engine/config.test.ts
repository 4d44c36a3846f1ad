import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { listRules } from "../../../../lib/analyzer/rules.ts";

const known = listRules().map((r) => r.id);

function error(text: string): ConfigError {
  try {
    parseConfig(text, "poolguard.yml", known);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("config loading", () => {
  it("reads every documented key", () => {
    const config = parseConfig(
      [
        "forbidden_imports:",
        '  - from: "src.db"',
        '    names: ["async_session"]',
        '    allow_in: ["src/db/**"]',
        '    use_instead: "src.db.get_session"',
        '    message: "open sessions through get_session()"',
        "sessions:",
        '  factories: ["myapp.db.make_session"]',
        '  closers: ["myapp.db.release"]',
        "rules:",
        "  engine-per-call: off",
        "  manual-aenter: error",
        'ignore: ["migrations/**"]',
      ].join("\n"),
      "poolguard.yml",
      known,
    );
    expect(config.forbidden_imports).toEqual([
      { from: "src.db", names: ["async_session"], allow_in: ["src/db/**"], use_instead: "src.db.get_session", message: "open sessions through get_session()", line: 2 },
    ]);
    expect(config.sessions).toEqual({ factories: ["myapp.db.make_session"], closers: ["myapp.db.release"] });
    expect(config.rules).toEqual({ "engine-per-call": "off", "manual-aenter": "error" });
    expect(config.ignore).toEqual(["migrations/**"]);
    expect(config.source).toBe("poolguard.yml");
  });

  it("accepts an empty file", () => {
    expect(parseConfig("", "poolguard.yml", known).forbidden_imports).toEqual([]);
  });

  it.each([
    ["unknown top-level key", "rulez:\n  x: off\n", "poolguard.yml:1: rulez: unknown key"],
    ["unknown rule id", "rules:\n  engine-per-call: off\n  not-a-rule: off\n", "poolguard.yml:3: rules.not-a-rule: unknown rule id"],
    ["bad level", "rules:\n  engine-per-call: loud\n", "poolguard.yml:2: rules.engine-per-call: expected off, info, warning or error"],
    ["wrong type in a list", "ignore:\n  - ok/**\n  - 42\n", "poolguard.yml:3: ignore[1]: expected a non-empty string"],
    ["missing from", "forbidden_imports:\n  - names: [x]\n", "poolguard.yml:2: forbidden_imports[0].from: missing"],
    ["bad nested key", "forbidden_imports:\n  - from: a\n  - from: b\n    allow: [x]\n", "poolguard.yml:4: forbidden_imports[1].allow: unknown key"],
    ["sessions key", "sessions:\n  factory: [x]\n", "poolguard.yml:2: sessions.factory: unknown key"],
    ["invalid YAML", "rules: [unclosed\n", "poolguard.yml:"],
  ])("names file, key and line: %s", (_name, text, expected) => {
    expect(error(text).message).toContain(expected);
  });
});
