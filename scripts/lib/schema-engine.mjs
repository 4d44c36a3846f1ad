// Prisma's schema engine compiled to WebAssembly, loaded by hand. The package is built
// for bundlers (`import * as wasm from "./x.wasm"`), which plain Node cannot import, so
// we instantiate the module ourselves. This is the same Rust engine as the native
// `schema-engine` binary, driven through a Prisma driver adapter, so it needs no download.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
let loaded = null;

export async function loadSchemaEngine() {
  if (loaded) return loaded;
  const packageDir = dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const bindings = await import(join(packageDir, "schema_engine_bg.js"));
  const bytes = readFileSync(join(packageDir, "schema_engine_bg.wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": bindings });
  bindings.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  loaded = bindings;
  return bindings;
}
