#!/usr/bin/env bash
# The pre-commit hook (.pre-commit-hooks.yaml, language: script). It runs the Poolguard
# release with this checkout's version, installed once into the hook's cached clone;
# for a commit that is not a release it installs this checkout's dependencies once and
# runs its sources. (npm cannot install this repository from git globally, which is
# how pre-commit installs `language: node` hooks: it leaves a dangling link.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 9) ? 0 : 1)'; then
  echo "poolguard: the pre-commit hook needs Node.js 20.9 or newer on PATH" >&2
  exit 2
fi
release="$here/.poolguard-cli/node_modules/.bin/poolguard"
if [ -x "$release" ]; then exec "$release" "$@"; fi
if [ ! -d "$here/node_modules/tsx" ]; then
  version="$(node -p 'require(process.argv[1]).version' "$here/package.json")"
  if npm view "poolguard@$version" version >/dev/null 2>&1; then
    echo "poolguard: installing poolguard@$version for pre-commit (once)" >&2
    npm install --prefix "$here/.poolguard-cli" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "poolguard@$version" >&2
    exec "$release" "$@"
  fi
  echo "poolguard: poolguard@$version is not on the npm registry; installing this commit's dependencies for pre-commit (once)" >&2
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi
# Without install scripts the parsers rely on their prebuilt binaries; where those do not
# load (an older C++ runtime), build them here once.
if ! (cd "$here" && node -e 'require("tree-sitter"); require("tree-sitter-python")') >/dev/null 2>&1; then
  echo "poolguard: building the tree-sitter parsers for pre-commit (once)" >&2
  (cd "$here" && npm rebuild tree-sitter tree-sitter-python --no-audit --no-fund --loglevel=error >&2)
fi
exec node "$here/bin/poolguard.mjs" "$@"
