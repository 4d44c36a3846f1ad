import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractSnapshot, readSnapshotIntoMemory, SnapshotError, type SnapshotReadOptions } from "../../../lib/github/snapshot.ts";
import { type HostileEntry, tarOf, tgzOf } from "./hostile-tar.ts";

let sandbox: string;
let target: string;
beforeEach(() => {
  // The target sits inside a sandbox so anything written next to it would show.
  sandbox = mkdtempSync(join(tmpdir(), "pg-tar-"));
  target = join(sandbox, "target");
});
afterEach(() => {
  rmSync(sandbox, { recursive: true, force: true });
});

const top: HostileEntry = { name: "acme-shop-abc1234/", type: "5" };

async function refused(archive: Buffer, options: SnapshotReadOptions = {}): Promise<SnapshotError> {
  let caught: unknown;
  try {
    await extractSnapshot(archive, target, options);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SnapshotError);
  // Nothing escaped: the sandbox holds only the target folder.
  expect(readdirSync(sandbox)).toEqual(["target"]);
  return caught as SnapshotError;
}

describe("extractSnapshot refuses hostile archives", () => {
  it("path traversal with ../", async () => {
    const error = await refused(tgzOf([top, { name: "acme-shop-abc1234/../../escaped.txt", data: "owned\n" }]));
    expect(error.reason).toBe("path-traversal");
    expect(error.message).toContain("acme-shop-abc1234/../../escaped.txt");
    expect(existsSync(join(sandbox, "escaped.txt"))).toBe(false);
  });

  it("an absolute path", async () => {
    const error = await refused(tgzOf([top, { name: "/tmp/poolguard-absolute-escape.txt", data: "owned\n" }]));
    expect(error.reason).toBe("absolute-path");
    expect(error.message).toContain("/tmp/poolguard-absolute-escape.txt");
    expect(existsSync("/tmp/poolguard-absolute-escape.txt")).toBe(false);
  });

  it("a symlink pointing out, then a file written through it", async () => {
    const archive = tgzOf([top, { name: "acme-shop-abc1234/out", type: "2", linkname: sandbox }, { name: "acme-shop-abc1234/out/escaped.txt", data: "owned\n" }]);
    const error = await refused(archive, { links: "error" });
    expect(error.reason).toBe("link");
    expect(error.entry).toBe("acme-shop-abc1234/out");
    expect(error.message).toContain("symbolic link");
    // Default mode: the link is left out (listed), and the file lands inside the target as a plain file.
    rmSync(target, { recursive: true, force: true });
    const result = await extractSnapshot(archive, target);
    expect(result.skipped).toEqual([{ path: "out", reason: "link" }]);
    expect(lstatSync(join(target, "out")).isDirectory()).toBe(true);
    expect(readFileSync(join(target, "out", "escaped.txt"), "utf8")).toBe("owned\n");
    expect(readdirSync(sandbox)).toEqual(["target"]);
  });

  it("a hard link to a file outside", async () => {
    const archive = tgzOf([top, { name: "acme-shop-abc1234/passwd", type: "1", linkname: "/etc/passwd" }]);
    const error = await refused(archive, { links: "error" });
    expect(error.reason).toBe("link");
    expect(error.message).toContain("hard link");
    expect(error.message).toContain("/etc/passwd");
    rmSync(target, { recursive: true, force: true });
    const result = await extractSnapshot(archive, target);
    expect(result.skipped).toEqual([{ path: "passwd", reason: "link" }]);
    expect(existsSync(join(target, "passwd"))).toBe(false);
  });

  it("device files and FIFOs", async () => {
    for (const type of ["3", "4", "6"]) {
      rmSync(target, { recursive: true, force: true });
      const error = await refused(tgzOf([top, { name: "acme-shop-abc1234/dev-null", type }]));
      expect(error.reason).toBe("special-file");
      expect(error.message).toContain("acme-shop-abc1234/dev-null");
    }
  });

  it("a gzip bomb (a small download that expands without end)", async () => {
    // 64 MB of zero blocks compress to about 64 KB.
    const bomb = gzipSync(Buffer.concat([tarOf([top, { name: "acme-shop-abc1234/a.py", data: "x = 1\n" }], { end: false }), Buffer.alloc(64 * 1024 * 1024)]));
    expect(bomb.length).toBeLessThan(200 * 1024);
    const error = await refused(bomb, { limits: { maxUnpackedBytes: 1024 * 1024, maxEntries: 100 } });
    expect(error.reason).toBe("unpacked-too-large");
  });

  it("more files than allowed", async () => {
    const entries: HostileEntry[] = [top];
    for (let i = 0; i < 30; i++) entries.push({ name: `acme-shop-abc1234/f${i}.py`, data: `x = ${i}\n` });
    const error = await refused(tgzOf(entries), { limits: { maxEntries: 10 } });
    expect(error.reason).toBe("too-many-entries");
    expect(error.message).toContain("more than 10 entries");
  });

  it("one huge file, by its header before a byte is read", async () => {
    const error = await refused(tgzOf([top, { name: "acme-shop-abc1234/huge.bin", data: Buffer.alloc(3 * 1024 * 1024, 7) }]), { limits: { maxFileBytes: 1024 * 1024 } });
    expect(error.reason).toBe("file-too-large");
    expect(error.message).toContain("acme-shop-abc1234/huge.bin");
    // A header that claims 8 GB is refused without waiting for the data.
    rmSync(target, { recursive: true, force: true });
    const liar = await refused(gzipSync(Buffer.concat([tarOf([top], { end: false }), tarOf([{ name: "acme-shop-abc1234/liar.bin", size: 8 * 1024 ** 3 }], { end: false })])));
    expect(liar.reason).toBe("file-too-large");
  });

  it("a total unpacked size over the cap", async () => {
    const entries: HostileEntry[] = [top];
    for (let i = 0; i < 5; i++) entries.push({ name: `acme-shop-abc1234/part${i}.txt`, data: Buffer.alloc(300 * 1024, 65) });
    const error = await refused(tgzOf(entries), { limits: { maxUnpackedBytes: 1024 * 1024 } });
    expect(error.reason).toBe("unpacked-too-large");
    expect(error.message).toContain("part3.txt");
  });

  it("a download over the compressed-size cap", async () => {
    const error = await refused(tgzOf([top, { name: "acme-shop-abc1234/a.txt", data: randomBytes(4096) }]), { limits: { maxCompressedBytes: 512 } });
    expect(error.reason).toBe("compressed-too-large");
  });

  it("entries outside the archive's single top folder", async () => {
    const error = await refused(tgzOf([top, { name: "other-top/x.py", data: "x\n" }]));
    expect(error.reason).toBe("outside-prefix");
    expect(error.message).toContain("other-top/x.py");
  });

  it("data that is not gzip", async () => {
    const error = await refused(Buffer.from("this is not an archive at all"));
    expect(error.reason).toBe("corrupt-archive");
  });
});

describe("extractSnapshot on honest archives", () => {
  it("writes plain files and folders, strips the top folder, never applies setuid or owners", async () => {
    const archive = tgzOf([
      top,
      { name: "acme-shop-abc1234/src/", type: "5" },
      { name: "acme-shop-abc1234/src/app.py", data: "print('hi')\n", mode: 0o4755 },
      { name: "acme-shop-abc1234/README.md", data: "# hi\n", mode: 0o600 },
    ]);
    const result = await extractSnapshot(archive, target);
    expect(result).toEqual({ files: 2, skipped: [] });
    expect(readFileSync(join(target, "src/app.py"), "utf8")).toBe("print('hi')\n");
    expect(statSync(join(target, "src/app.py")).mode & 0o7777).toBe(0o755);
    expect(statSync(join(target, "README.md")).mode & 0o7777).toBe(0o644);
    expect(statSync(join(target, "README.md")).uid).toBe(process.getuid?.());
  });

  it("reads text files into memory and lists binary ones", async () => {
    const archive = tgzOf([top, { name: "acme-shop-abc1234/a.py", data: "x = 1\n" }, { name: "acme-shop-abc1234/logo.png", data: Buffer.from([0x89, 0x50, 0, 0xff]) }]);
    const result = await readSnapshotIntoMemory(archive);
    expect(result.files).toEqual([{ path: "a.py", text: "x = 1\n" }]);
    expect(result.skipped).toEqual([{ path: "logo.png", reason: "binary" }]);
  });

  it("refuses to unpack into a folder that is not empty", async () => {
    await extractSnapshot(tgzOf([top, { name: "acme-shop-abc1234/a.py", data: "x\n" }]), target);
    await expect(extractSnapshot(tgzOf([top]), target)).rejects.toThrow(/not empty/);
  });
});
