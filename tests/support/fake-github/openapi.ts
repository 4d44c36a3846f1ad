// Validates the fake's responses against GitHub's published REST description
// (@octokit/openapi), so the fake cannot drift from what GitHub really sends.
// A small validator over the JSON Schema subset that description uses (OpenAPI 3.0:
// type, nullable, properties, required, additionalProperties, items, enum, oneOf,
// anyOf, allOf, $ref into components).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type Schema = {
  $ref?: string;
  /** A list in OpenAPI 3.1 descriptions (the webhook one): ["string", "null"]. */
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};

type ResponseObject = { $ref?: string; content?: Record<string, { schema?: Schema; examples?: Record<string, { $ref?: string; value?: unknown }> }> };
type Operation = { operationId: string; responses: Record<string, ResponseObject> };
type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, ResponseObject>; examples: Record<string, { value: unknown }> };
};

let cached: Spec | null = null;

export function githubSpec(): Spec {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("@octokit/openapi/package.json"));
  cached = JSON.parse(readFileSync(join(root, "generated", "api.github.com.json"), "utf8")) as Spec;
  return cached;
}

/** A deep copy of one of the description's named examples (components/examples). */
export function example<T = Record<string, unknown>>(name: string): T {
  const found = githubSpec().components.examples[name];
  if (!found) throw new Error(`no example named ${name} in the GitHub REST description`);
  return structuredClone(found.value) as T;
}

type Route = { method: string; template: string; regex: RegExp; literals: number; operation: Operation };
let routes: Route[] | null = null;

// These parameters may hold slashes (refs like heads/feature/x, file paths).
const greedy = new Set(["ref", "path", "basehead", "branch"]);

function buildRoutes(): Route[] {
  const list: Route[] = [];
  for (const [template, methods] of Object.entries(githubSpec().paths)) {
    const segments = template.split("/").filter(Boolean);
    const parts = segments.map((segment, i) => {
      const m = /^\{(\w+)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return i === segments.length - 1 && greedy.has(m[1]) ? "(.+)" : "([^/]+)";
    });
    const regex = new RegExp(`^/${parts.join("/")}$`);
    const literals = segments.filter((s) => !s.startsWith("{")).length;
    for (const [method, operation] of Object.entries(methods)) {
      if (typeof operation !== "object" || !operation || !("responses" in operation)) continue;
      list.push({ method: method.toUpperCase(), template, regex, literals, operation });
    }
  }
  // Most literal segments first: /git/ref/{ref} before /git/{x}/{y}.
  return list.sort((a, b) => b.literals - a.literals);
}

export function findOperation(method: string, path: string): { template: string; operation: Operation } | null {
  routes ??= buildRoutes();
  for (const route of routes) if (route.method === method && route.regex.test(path)) return { template: route.template, operation: route.operation };
  return null;
}

function resolveRef<T>(ref: string, root: unknown = githubSpec()): T {
  const parts = ref.replace(/^#\//, "").split("/");
  let node: unknown = root;
  for (const part of parts) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  return node as T;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Returns the list of problems (empty when the value matches). */
function validateIn(schema: Schema, value: unknown, at: string, depth: number, root: unknown): string[] {
  return validate(schema, value, at, depth, root);
}

export function validate(schema: Schema, value: unknown, at = "$", depth = 0, root: unknown = githubSpec()): string[] {
  if (depth > 60) return [];
  const validate = (s: Schema, v: unknown, a: string, d: number) => validateIn(s, v, a, d, root);
  if (schema.$ref) return validate(resolveRef<Schema>(schema.$ref, root), value, at, depth + 1);
  if (value === null) {
    if (schema.nullable || schema.type === "null" || (Array.isArray(schema.type) && schema.type.includes("null"))) return [];
    // allOf/anyOf wrappers sometimes carry nullable on a member.
    if (!schema.type && (schema.anyOf || schema.oneOf || schema.allOf)) {
      const members = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
      if (members.some((m) => validate(m, null, at, depth + 1).length === 0)) return [];
    }
    if (!schema.type && !schema.anyOf && !schema.oneOf && !schema.allOf && !schema.enum) return [];
    return [`${at}: null is not allowed`];
  }
  const problems: string[] = [];
  if (schema.allOf) for (const member of schema.allOf) problems.push(...validate(member, value, at, depth + 1));
  // oneOf is checked as anyOf: GitHub's description has overlapping oneOf members
  // (loose object schemas) that a strict "exactly one" would reject for real responses.
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) {
    const results = alternatives.map((m) => validate(m, value, at, depth + 1));
    if (!results.some((r) => r.length === 0)) problems.push(`${at}: matches none of ${alternatives.length} alternatives (first: ${results[0]?.[0] ?? "?"})`);
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.type) {
    const actual = typeOf(value);
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = types.includes(actual) || (types.includes("number") && actual === "integer");
    if (!ok) return [...problems, `${at}: expected ${types.join(" or ")}, got ${actual}`];
  }
  if (typeOf(value) === "object" && (schema.properties || schema.required || schema.additionalProperties !== undefined)) {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) problems.push(`${at}: missing required property "${key}"`);
    for (const [key, child] of Object.entries(object)) {
      const property = schema.properties?.[key];
      if (property) problems.push(...validate(property, child, `${at}.${key}`, depth + 1));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property "${key}"`);
      else if (typeof schema.additionalProperties === "object") problems.push(...validate(schema.additionalProperties, child, `${at}.${key}`, depth + 1));
    }
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries()) problems.push(...validate(schema.items, item, `${at}[${i}]`, depth + 1));
  }
  return problems;
}

/**
 * Check one response: the operation must exist, document the status code (401, 403,
 * 404 and injected 429/5xx excepted: GitHub sends those from any endpoint, and they
 * are checked against basic-error), and the JSON body must match that status's schema.
 */
export function validateResponse(input: { method: string; path: string; status: number; body: unknown; injectedFault?: boolean }): string[] {
  const found = findOperation(input.method, input.path);
  if (!found) return [`${input.method} ${input.path}: no such operation in GitHub's REST description`];
  const where = `${input.method} ${found.template} (${found.operation.operationId}) -> ${input.status}`;
  let response = found.operation.responses[String(input.status)] ?? found.operation.responses.default;
  if (!response) {
    // GitHub answers 401 (bad credentials), 403 (not accessible, rate limits) and 404
    // (no access) from any endpoint, documented or not; injected faults add 429 and 5xx.
    const anywhere = input.status === 401 || input.status === 403 || input.status === 404 || (input.injectedFault && (input.status === 429 || input.status >= 500));
    if (!anywhere) return [`${where}: status not documented for this operation`];
    response = { content: { "application/json": { schema: { $ref: "#/components/schemas/basic-error" } } } };
  }
  if (response.$ref) response = resolveRef<ResponseObject>(response.$ref);
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return input.body === undefined || input.body === null || input.body === "" ? [] : [`${where}: body sent where none is documented`];
  if (input.body === undefined) return [`${where}: documented JSON body missing`];
  return validate(schema, input.body).map((p) => `${where}: ${p}`);
}
