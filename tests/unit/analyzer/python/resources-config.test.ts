import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../../lib/analyzer/config/load-config.ts";
import { listRules } from "../../../../lib/analyzer/rules.ts";

// `resources:` in poolguard.yml: users' own acquire/release pairs.
const known = listRules().map((r) => r.id);

function problem(text: string): string {
  try {
    parseConfig(text, "poolguard.yml", known);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("resources config key", () => {
  it("reads entries with their optional keys", () => {
    const config = parseConfig(
      [
        "resources:",
        '  - acquire: "myapp.db.open_session"',
        '    release: ["close"]',
        '  - acquire: "myapp.pool.checkout"',
        "    release: myapp.pool.checkin",
        "    rule: connection-not-closed",
        "    awaited: true",
        '    protocols: ["async-with", "try-finally"]',
      ].join("\n"),
      "poolguard.yml",
      known,
    );
    expect(config.resources).toEqual([
      { acquire: "myapp.db.open_session", release: ["close"], line: 2 },
      { acquire: "myapp.pool.checkout", release: ["myapp.pool.checkin"], rule: "connection-not-closed", awaited: true, protocols: ["async-with", "try-finally"], line: 4 },
    ]);
  });

  it("defaults to no entries", () => {
    expect(parseConfig("rules: {}\n", "poolguard.yml", known).resources).toEqual([]);
  });

  it.each([
    ["not a list", "resources:\n  acquire: x\n", "poolguard.yml:2: resources: expected a list"],
    ["missing acquire", "resources:\n  - release: [close]\n", "poolguard.yml:2: resources[0].acquire: missing"],
    ["missing release", "resources:\n  - acquire: a.b\n", "poolguard.yml:2: resources[0].release: missing"],
    ["empty release", "resources:\n  - acquire: a.b\n    release: []\n", "poolguard.yml:3: resources[0].release: expected at least one"],
    ["unknown rule", "resources:\n  - acquire: a.b\n    release: [close]\n    rule: nope\n", "poolguard.yml:4: resources[0].rule: expected a lifecycle rule id"],
    ["bad awaited", "resources:\n  - acquire: a.b\n    release: [close]\n    awaited: sometimes\n", "poolguard.yml:4: resources[0].awaited: expected true or false"],
    ["bad protocol", "resources:\n  - acquire: a.b\n    release: [close]\n    protocols:\n      - with\n      - maybe\n", "poolguard.yml:6: resources[0].protocols[1]: expected one of"],
    ["unknown key", "resources:\n  - acquire: a.b\n    release: [close]\n    closer: x\n", "poolguard.yml:4: resources[0].closer: unknown key"],
  ])("names file, key and line: %s", (_name, text, expected) => {
    expect(problem(text)).toContain(expected);
  });
});
