#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, which cannot be downloaded on
// machines without internet. `prisma generate` only checks that the binary exists; any
// command that really needs the engine must fail loudly rather than silently do nothing
// (a no-op engine would make `migrate deploy` "succeed" without migrating).
// Poolguard runs migrations through the WebAssembly engine: `npm run db:migrate`.
// If you have the native engine, set PRISMA_SCHEMA_ENGINE_BINARY to it instead.
process.stderr.write(
  "Poolguard: the native Prisma schema engine is not installed. Use `npm run db:migrate` " +
    "(WebAssembly engine) or set PRISMA_SCHEMA_ENGINE_BINARY to a native schema-engine binary.\n",
);
process.exit(1);
