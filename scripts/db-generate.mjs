#!/usr/bin/env node
// Generates both Prisma clients (SQLite and PostgreSQL) into lib/db/generated/.
// Runs on `npm install` / `npm ci` in a checkout (the `prepare` script: npm runs it for
// the project itself, never where Poolguard is installed as a package, which has no
// Prisma and needs none). Prisma's CLI insists on a schema-engine binary
// even for `generate`, which never uses it; unless the user points
// PRISMA_SCHEMA_ENGINE_BINARY at a native engine, we give it a stand-in that fails
// loudly if anything ever does call it.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
// `npm pack` / `npm publish` and npm preparing a git URL install also run `prepare`:
// they only need the CLI bundle, not a database client.
const gitInstall = process.env._PACOTE_NO_PREPARE_ || /[\\/]_cacache[\\/]tmp[\\/]git-clone/.test(root);
if (gitInstall || ["pack", "publish"].includes(process.env.npm_command ?? "")) process.exit(0);
const env = {
  ...process.env,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || join(root, "scripts/prisma-schema-engine.mjs"),
};
const prisma = join(root, "node_modules/prisma/build/index.js");
for (const schema of ["prisma/schema.prisma", "prisma/postgresql/schema.prisma"]) {
  execFileSync(process.execPath, [prisma, "generate", "--schema", schema], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
  console.log(`generated Prisma client for ${schema}`);
}
