#!/usr/bin/env node
// In a checkout the CLI runs its TypeScript sources through tsx (always current, no
// build step); an installed package has no sources and runs the bundle that
// scripts/build-cli.mjs wrote into dist/ when it was packed.
import { existsSync } from "node:fs";

const sources = new URL("../lib/cli/bin.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  await import("../dist/cli.mjs");
}
