// System packages the test suites need. On a fresh Debian machine as root they are
// installed from Debian's repositories; anywhere else we say exactly what is missing
// and stop: a suite that cannot start its service must fail, never skip.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

/** @typedef {{ name: string, aptPackage: string, present: () => boolean, why: string }} Requirement */

export function findPostgresBinDir() {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? `${base}/${versions[0]}/bin` : null;
}

function onPath(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Debian's own Python modules: the fix programs always run under /usr/bin/python3. */
function debianPythonHas(module) {
  return spawnSync("/usr/bin/python3", ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
}

/** @type {Requirement[]} */
export const requirements = [
  { name: "chromium", aptPackage: "chromium", present: () => existsSync("/usr/bin/chromium"), why: "browser tests (Playwright drives Debian's Chromium)" },
  { name: "postgresql", aptPackage: "postgresql", present: () => findPostgresBinDir() !== null, why: "integration tests against PostgreSQL" },
  { name: "redis-server", aptPackage: "redis-server", present: () => onPath("redis-server"), why: "integration tests against Redis" },
  { name: "python3", aptPackage: "python3", present: () => onPath("python3"), why: "fix round trips compile fixed Python with py_compile" },
  { name: "python3-sqlalchemy", aptPackage: "python3-sqlalchemy", present: () => debianPythonHas("sqlalchemy.ext.asyncio"), why: "fix programs run against SQLAlchemy 1.4 (sync and asyncio)" },
  { name: "python3-greenlet", aptPackage: "python3-greenlet", present: () => debianPythonHas("greenlet"), why: "SQLAlchemy's asyncio extension runs on greenlet" },
  { name: "python3-aiosqlite", aptPackage: "python3-aiosqlite", present: () => debianPythonHas("aiosqlite"), why: "fix programs run against SQLite through aiosqlite" },
  { name: "python3-asyncpg", aptPackage: "python3-asyncpg", present: () => debianPythonHas("asyncpg"), why: "fix programs run against PostgreSQL through asyncpg" },
  { name: "python3-psycopg2", aptPackage: "python3-psycopg2", present: () => debianPythonHas("psycopg2"), why: "fix programs run against PostgreSQL through psycopg2" },
  { name: "python3-psycopg", aptPackage: "python3-psycopg", present: () => debianPythonHas("psycopg"), why: "fix programs run against PostgreSQL through psycopg 3" },
];

export function missingRequirements() {
  return requirements.filter((r) => !r.present());
}

/**
 * Install what is missing with apt-get when we are root on Debian; otherwise throw
 * an error that lists each missing package and why it is needed.
 */
export function ensureSystemRequirements(log = console.error) {
  const missing = missingRequirements();
  if (missing.length === 0) return;
  const packages = missing.map((r) => r.aptPackage);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = onPath("apt-get");
  if (!isRoot || !hasApt) {
    const lines = missing.map((r) => `  - ${r.aptPackage}: ${r.why}`).join("\n");
    throw new Error(
      `Missing system packages and cannot install them (${!hasApt ? "no apt-get" : "not root"}):\n${lines}\n` +
        `Install them with: sudo apt-get install -y ${packages.join(" ")}`,
    );
  }
  log(`[setup] installing from Debian: ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { stdio: "inherit", env });
  const still = missingRequirements();
  if (still.length > 0) {
    throw new Error(`apt-get finished but these are still missing: ${still.map((r) => r.name).join(", ")}`);
  }
}
