import { createHash } from "node:crypto";
import type { FullScanResult } from "../engine/run-scan.ts";
import { listRules } from "../rules.ts";
import type { Severity } from "../types.ts";
import { informationUri } from "../version.ts";

const level: Record<Severity, "note" | "warning" | "error"> = { info: "note", warning: "warning", error: "error" };

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function plain(markdown: string): string {
  return markdown.replace(/```[a-z]*\n?/g, "").replace(/`/g, "").trim();
}

/** SARIF 2.1.0 as GitHub code scanning accepts it (no empty strings, repo-relative URIs). */
export function formatSarif(result: FullScanResult): string {
  const rules = listRules();
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "poolguard",
            version: result.tool.version,
            semanticVersion: result.tool.version,
            informationUri,
            rules: rules.map((rule) => {
              const what = rule.docs?.sections["What it does"] || rule.summary;
              const help = rule.docs?.markdown || rule.summary;
              return {
                id: rule.id,
                name: rule.id,
                shortDescription: { text: rule.summary },
                fullDescription: { text: truncate(plain(what), 1024) },
                help: { text: plain(help), markdown: help },
                helpUri: `${informationUri}/blob/main/docs/rules/${rule.id}.md`,
                defaultConfiguration: { level: level[rule.defaultSeverity] },
                properties: { tags: ["reliability", "database", ...rule.languages] },
              };
            }),
          },
        },
        columnKind: "utf16CodeUnits",
        results: result.findings.map((finding) => ({
          ruleId: finding.rule,
          ruleIndex: ruleIndex.get(finding.rule) ?? 0,
          level: level[finding.severity],
          message: { text: finding.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: finding.path, uriBaseId: "%SRCROOT%" },
                region: { startLine: finding.line, startColumn: finding.column, endLine: finding.end_line, endColumn: finding.end_column },
              },
            },
          ],
          partialFingerprints: {
            primaryLocationLineHash: finding.fingerprint,
            poolguardFingerprint: createHash("sha256").update(finding.fingerprint).digest("hex").slice(0, 16),
          },
          ...(finding.suppressed ? { suppressions: [{ kind: "inSource" }] } : {}),
          // Code scanning filters on result tags: "test" marks findings in test code.
          ...(finding.tags?.length ? { properties: { tags: finding.tags } } : {}),
          ...(finding.fix
            ? {
                fixes: [
                  {
                    description: { text: `${finding.fix.description} (${finding.fix.safety})` },
                    artifactChanges: groupByPath(finding.fix.edits).map(([uri, edits]) => ({
                      artifactLocation: { uri, uriBaseId: "%SRCROOT%" },
                      replacements: edits.map((edit) => ({
                        deletedRegion: { startLine: edit.start.line, startColumn: edit.start.column, endLine: edit.end.line, endColumn: edit.end.column },
                        insertedContent: { text: edit.text },
                      })),
                    })),
                  },
                ],
              }
            : {}),
        })),
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: result.errors.map((error) => ({
              level: "warning",
              message: { text: error.message },
              locations: [{ physicalLocation: { artifactLocation: { uri: error.path, uriBaseId: "%SRCROOT%" } } }],
            })),
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function groupByPath<T extends { path: string }>(items: T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.path, [...(groups.get(item.path) ?? []), item]);
  return [...groups.entries()];
}
