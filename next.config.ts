import type { NextConfig } from "next";

// Native addons (tree-sitter, better-sqlite3) and the analyzer's worker threads must
// stay outside the bundle: Node loads them from node_modules at run time.
const nextConfig: NextConfig = {
  serverExternalPackages: ["better-sqlite3", "tree-sitter", "tree-sitter-python", "ts-morph", "pg"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
