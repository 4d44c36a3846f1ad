import type { NextConfig } from "next";

// Native addons (tree-sitter, better-sqlite3) and the analyzer's worker threads must
// stay outside the bundle: Node loads them from node_modules at run time.
const nextConfig: NextConfig = {
  serverExternalPackages: ["better-sqlite3", "tree-sitter", "tree-sitter-python", "ts-morph", "pg", "bullmq", "ioredis"],
  poweredByHeader: false,
  typedRoutes: false,
  // `npm test` type-checks the whole project (tsc --noEmit); repeating it inside
  // `next build` would double the first `npm start` on a two-core machine.
  typescript: { ignoreBuildErrors: true },
  // Headers every response carries; the page CSP (with a per-request nonce) is set in proxy.ts.
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
          { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
