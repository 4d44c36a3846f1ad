import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitSource, localSource, resolveLocalPath, SnapshotRefusedError, validateGitUrl } from "../../../lib/scan/snapshot.ts";

const scratch = mkdtempSync(join(tmpdir(), "poolguard-snapshot-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("local paths", () => {
  const allowed = join(scratch, "allowed");
  const outside = join(scratch, "outside");
  beforeAll(() => {
    mkdirSync(join(allowed, "repo", "src"), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(allowed, "repo", "file.py"), "x = 1\n");
    symlinkSync(outside, join(allowed, "link-out"));
    symlinkSync(join(allowed, "repo"), join(allowed, "link-in"));
  });
  const env = () => ({ POOLGUARD_LOCAL_ROOTS: `/does/not/exist:${allowed}` });

  it("are refused when no roots are configured", () => {
    expect(() => resolveLocalPath(join(allowed, "repo"), {})).toThrow(/POOLGUARD_LOCAL_ROOTS/);
  });
  it("are allowed under a root, by real path", () => {
    expect(resolveLocalPath(join(allowed, "repo"), env())).toBe(join(allowed, "repo"));
    expect(resolveLocalPath(join(allowed, "link-in"), env())).toBe(join(allowed, "repo"));
  });
  it("refuse symbolic links and .. that lead outside, relative paths and files", () => {
    expect(() => resolveLocalPath(join(allowed, "link-out"), env())).toThrow(SnapshotRefusedError);
    expect(() => resolveLocalPath(`${allowed}/repo/../../outside`, env())).toThrow(/\.\./);
    expect(() => resolveLocalPath(outside, env())).toThrow(/outside/);
    expect(() => resolveLocalPath("repo", env())).toThrow(/absolute/);
    expect(() => resolveLocalPath(join(allowed, "repo", "file.py"), env())).toThrow(/not a directory/);
  });
  it("are scanned in place and leave nothing behind", async () => {
    const snapshot = await localSource(join(allowed, "repo"), env()).materialize({});
    expect(snapshot.root).toBe(join(allowed, "repo"));
    await snapshot.dispose();
    expect(existsSync(join(allowed, "repo", "file.py"))).toBe(true);
  });
});

describe("git URLs", () => {
  it("accept https and ssh only", () => {
    for (const url of ["https://github.com/o/r.git", "ssh://git@host.example/o/r.git", "git@host.example:o/r.git"]) expect(validateGitUrl(url, {})).toBe(url);
    for (const url of [
      "file:///etc",
      "FILE:///etc",
      "ext::sh -c id",
      "fd::17",
      "git://host/r.git",
      "http://host/r.git",
      "/srv/r.git",
      "../r",
      "-uupload-pack=id",
      "https://host/r.git --upload-pack=id",
      "",
    ]) {
      expect(() => validateGitUrl(url, {}), url).toThrow(SnapshotRefusedError);
    }
    expect(() => validateGitUrl("http://127.0.0.1:9/r.git", {})).toThrow(SnapshotRefusedError);
    expect(validateGitUrl("http://127.0.0.1:9/r.git", { POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP: "1" })).toBe("http://127.0.0.1:9/r.git");
  });

  // A real clone over HTTP from git's own server program on loopback.
  describe("cloned from a loopback git server", () => {
    let server: Server;
    let url = "";
    let first = "";
    let second = "";
    const env = { POOLGUARD_GIT_ALLOW_LOOPBACK_HTTP: "1" };
    beforeAll(async () => {
      const work = join(scratch, "work");
      mkdirSync(work);
      const git = (...args: string[]) => execFileSync("git", ["-C", work, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { encoding: "utf8" }).trim();
      git("init", "-q", "-b", "main");
      writeFileSync(join(work, "app.py"), "VERSION = 1\n");
      git("add", ".");
      git("commit", "-q", "-m", "one");
      first = git("rev-parse", "HEAD");
      writeFileSync(join(work, "app.py"), "VERSION = 2\n");
      symlinkSync("/etc/passwd", join(work, "passwd-link"));
      git("add", ".");
      git("commit", "-q", "-m", "two");
      second = git("rev-parse", "HEAD");
      const projects = join(scratch, "projects");
      mkdirSync(projects);
      execFileSync("git", ["clone", "-q", "--bare", work, join(projects, "app.git")]);
      execFileSync("git", ["-C", join(projects, "app.git"), "config", "uploadpack.allowReachableSHA1InWant", "true"]);
      server = createServer((req, res) => {
        const [path, query = ""] = (req.url ?? "/").split("?");
        const cgi = spawn("git", ["http-backend"], {
          env: <NodeJS.ProcessEnv>(<unknown>{
            PATH: process.env.PATH,
            GIT_PROJECT_ROOT: projects,
            GIT_HTTP_EXPORT_ALL: "1",
            PATH_INFO: path,
            QUERY_STRING: query,
            REQUEST_METHOD: req.method,
            CONTENT_TYPE: req.headers["content-type"] ?? "",
            HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
          }),
        });
        req.pipe(cgi.stdin);
        let head = Buffer.alloc(0);
        let headerDone = false;
        cgi.stdout.on("data", (chunk: Buffer) => {
          if (headerDone) return void res.write(chunk);
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) return;
          headerDone = true;
          let status = 200;
          for (const line of head.subarray(0, end).toString().split("\r\n")) {
            const [name, ...rest] = line.split(":");
            const value = rest.join(":").trim();
            if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
            else res.setHeader(name, value);
          }
          res.writeHead(status);
          res.write(head.subarray(end + 4));
        });
        cgi.on("close", () => res.end());
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address() as { port: number };
      url = `http://127.0.0.1:${address.port}/app.git`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("shallow-clones the branch head into a temporary folder and removes it afterwards", async () => {
      const source = gitSource(url, env);
      expect(await source.headCommit("main")).toBe(second);
      const snapshot = await source.materialize({ branch: "main" });
      expect(snapshot.commitSha).toBe(second);
      expect(readFileSync(join(snapshot.root, "app.py"), "utf8")).toBe("VERSION = 2\n");
      // Links arrive as plain files: nothing in a clone can point outside it.
      expect(readFileSync(join(snapshot.root, "passwd-link"), "utf8")).toBe("/etc/passwd");
      expect(existsSync(join(snapshot.root, ".git"))).toBe(false);
      await snapshot.dispose();
      expect(existsSync(snapshot.root)).toBe(false);
    });

    it("fetches a given commit", async () => {
      const snapshot = await gitSource(url, env).materialize({ commitSha: first });
      expect(snapshot.commitSha).toBe(first);
      expect(readFileSync(join(snapshot.root, "app.py"), "utf8")).toBe("VERSION = 1\n");
      await snapshot.dispose();
    });

    it("reports an unreachable remote as a fetch error and leaves no folder", async () => {
      // A private temporary folder, so clones made by other tests running at the same time do not count.
      const privateTmp = mkdtempSync(join(tmpdir(), "poolguard-clone-test-"));
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = privateTmp;
      try {
        await expect(gitSource("http://127.0.0.1:9/none.git", env).materialize({})).rejects.toMatchObject({ name: "SnapshotFetchError" });
        expect(readdirSync(privateTmp)).toEqual([]);
      } finally {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
        rmSync(privateTmp, { recursive: true, force: true });
      }
    });
  });
});
