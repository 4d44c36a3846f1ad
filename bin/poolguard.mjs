#!/usr/bin/env node
// The CLI runs Poolguard's TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/main.ts");
const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTty: Boolean(process.stdout.isTTY),
  env: process.env,
});
process.exitCode = code;
