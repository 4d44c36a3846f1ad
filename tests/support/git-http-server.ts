import { execFileSync, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

// A real git server on 127.0.0.1 for tests of git URL repositories: Node's HTTP server in
// front of `git http-backend` (git's own smart HTTP CGI), so shallow clones work exactly
// as against a hosted remote. Scans accept http://127.0.0.1 only with
// POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP=1.

/** Make `<projectRoot>/<name>.git`, a bare repository holding one commit of `source`. */
export function bareRepositoryFrom(source: string, projectRoot: string, name: string): string {
  const git = (args: string[], cwd: string) => execFileSync("git", args, { cwd, stdio: "pipe", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } });
  git(["init", "--quiet", "--initial-branch=main"], source);
  git(["add", "-A"], source);
  git(["-c", "user.name=Test", "-c", "user.email=test@example.test", "commit", "--quiet", "-m", "initial"], source);
  const bare = join(projectRoot, `${name}.git`);
  git(["clone", "--quiet", "--bare", source, bare], projectRoot);
  return bare;
}

export async function startGitHttpServer(projectRoot: string): Promise<{ url: string; close: () => Promise<void> }> {
  const backend = join(execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(), "git-http-backend");
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    // CGI gets only what it needs from this process's environment (not its secrets).
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: request.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers["content-type"] ?? "",
        CONTENT_LENGTH: request.headers["content-length"] ?? "",
        HTTP_GIT_PROTOCOL: String(request.headers["git-protocol"] ?? ""),
        HTTP_CONTENT_ENCODING: String(request.headers["content-encoding"] ?? ""),
        REMOTE_ADDR: "127.0.0.1",
    };
    const cgi = spawn(backend, [], { env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "ignore"] });
    request.pipe(cgi.stdin);
    // CGI output: headers, a blank line, then the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else response.setHeader(key, value);
      }
      response.writeHead(status);
      response.write(head.subarray(end + 4));
    });
    cgi.on("close", () => {
      if (!headersDone) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
