import { execFileSync } from "node:child_process";
import type { FullScanResult } from "../analyzer/index.ts";

// `poolguard scan --upload URL`: send the scan's findings to a Poolguard server
// (POST /api/v1/repositories/{id}/uploads) so a scan run in CI shows in the dashboard.
// The token comes from POOLGUARD_TOKEN, never from the command line (it would end up
// in shell history and CI logs).

export class UploadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UploadError";
  }
}

function gitHead(root: string): { commitSha: string | null; branch: string | null } {
  const git = (args: string[]) => {
    try {
      return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
    } catch {
      return null;
    }
  };
  const branch = git(["rev-parse", "--abbrev-ref", "HEAD"]);
  return { commitSha: git(["rev-parse", "HEAD"]), branch: branch === "HEAD" ? null : branch };
}

export async function uploadScanResult(
  url: string,
  result: FullScanResult,
  options: { partial: boolean; env: NodeJS.ProcessEnv; stderr: (s: string) => void },
): Promise<{ id: string; findingsCount: number }> {
  const token = options.env.POOLGUARD_TOKEN?.trim();
  if (!token) throw new UploadError("--upload needs an API token in the POOLGUARD_TOKEN environment variable");
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UploadError(`--upload: "${url}" is not a URL`);
  }
  if (target.protocol !== "https:" && !(target.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(target.hostname))) {
    throw new UploadError("--upload: the URL must use https (plain http only to this machine)");
  }
  const head = gitHead(result.root);
  const body = {
    tool: result.tool,
    files_scanned: result.files_scanned,
    duration_ms: result.duration_ms,
    findings: result.findings,
    errors: result.errors,
    commitSha: options.env.GITHUB_SHA || head.commitSha,
    branch: options.env.GITHUB_REF_NAME || head.branch,
    partial: options.partial,
  };
  let response: Response;
  try {
    response = await fetch(target, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new UploadError(`--upload: could not reach ${target.origin}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let data: { id?: string; findingsCount?: number; error?: { code: string; message: string } } = {};
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  if (!response.ok || !data.id) {
    throw new UploadError(`--upload: the server answered ${response.status}${data.error ? ` (${data.error.code}: ${data.error.message})` : ""}`);
  }
  options.stderr(`uploaded ${result.findings.length} findings to ${target.origin} (scan ${data.id})\n`);
  return { id: data.id, findingsCount: data.findingsCount ?? 0 };
}
