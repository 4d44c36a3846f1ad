// Hand-written tar headers, so tests can build archives no honest tool would write.
import { gzipSync } from "node:zlib";

export type HostileEntry = {
  name: string;
  /** "0" file, "1" hard link, "2" symlink, "3" char device, "4" block device, "5" directory, "6" FIFO */
  type?: string;
  data?: Buffer | string;
  /** Header size when it should differ from the data (a lying header). */
  size?: number;
  linkname?: string;
  mode?: number;
};

function field(buffer: Buffer, offset: number, length: number, value: string): void {
  buffer.write(value.slice(0, length), offset, length, "utf8");
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

export function tarHeader(entry: HostileEntry): Buffer {
  const header = Buffer.alloc(512);
  const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
  field(header, 0, 100, entry.name);
  field(header, 100, 8, octal(entry.mode ?? (entry.type === "5" ? 0o755 : 0o644), 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  field(header, 124, 12, octal(entry.size ?? data.length, 12));
  field(header, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
  field(header, 148, 8, "        ");
  field(header, 156, 1, entry.type ?? "0");
  field(header, 157, 100, entry.linkname ?? "");
  field(header, 257, 6, "ustar\0");
  field(header, 263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** A tar stream (uncompressed) from entries, with data padded to 512-byte blocks and the end marker. */
export function tarOf(entries: HostileEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry));
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    if (data.length > 0) {
      parts.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      parts.push(Buffer.alloc(pad));
    }
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function tgzOf(entries: HostileEntry[]): Buffer {
  return gzipSync(tarOf(entries));
}
