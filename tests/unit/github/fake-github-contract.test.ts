// The fake is only useful if its contract check can fail: these feed it wrong answers.
import { describe, expect, it } from "vitest";
import { example, findOperation, validateResponse } from "../../support/fake-github/index.ts";

describe("the fake's OpenAPI check", () => {
  it("matches paths to operations, slashes in refs included", () => {
    expect(findOperation("GET", "/repos/a/b/git/ref/heads/feature/x")?.operation.operationId).toBe("git/get-ref");
    expect(findOperation("PATCH", "/repos/a/b/git/refs/heads%2Fx")?.operation.operationId).toBe("git/update-ref");
    expect(findOperation("GET", "/repos/a/b/pulls/3/files")?.operation.operationId).toBe("pulls/list-files");
  });

  it("accepts GitHub's own example and rejects a drifted body", () => {
    expect(validateResponse({ method: "GET", path: "/repos/a/b/git/ref/heads/main", status: 200, body: example("git-ref") })).toEqual([]);
    const drifted = { ...example("git-ref"), object: { type: "commit", sha: 42 } };
    expect(validateResponse({ method: "GET", path: "/repos/a/b/git/ref/heads/main", status: 200, body: drifted }).join("\n")).toMatch(/object\.sha: expected string, got integer|object: missing required property "url"/);
    const pull = example<Record<string, unknown>>("pull-request");
    delete pull.head;
    expect(validateResponse({ method: "GET", path: "/repos/a/b/pulls/1", status: 200, body: pull }).join("\n")).toContain('missing required property "head"');
  });

  it("rejects undocumented statuses, unknown operations and missing bodies", () => {
    expect(validateResponse({ method: "POST", path: "/repos/a/b/git/blobs", status: 200, body: {} })[0]).toContain("status not documented");
    expect(validateResponse({ method: "GET", path: "/no/such/thing", status: 200, body: {} })[0]).toContain("no such operation");
    expect(validateResponse({ method: "POST", path: "/repos/a/b/pulls", status: 201, body: undefined })[0]).toContain("body missing");
    expect(validateResponse({ method: "GET", path: "/repos/a/b", status: 503, body: { message: "x" } })[0]).toContain("status not documented");
    expect(validateResponse({ method: "GET", path: "/repos/a/b", status: 503, body: { message: "x" }, injectedFault: true })).toEqual([]);
  });
});

describe("webhook payloads from GitHub's webhook description", () => {
  it("official examples validate against their schema, and a broken one does not", async () => {
    const { validateWebhookPayload, webhookExample, signWebhookBody } = await import("../../support/fake-github/index.ts");
    const requested = webhookExample<Record<string, unknown>>("check-run-requested-action");
    expect(validateWebhookPayload("check-run-requested-action", requested)).toEqual([]);
    delete requested.check_run;
    expect(validateWebhookPayload("check-run-requested-action", requested).join("\n")).toContain('missing required property "check_run"');
    // GitHub's published test vector for X-Hub-Signature-256.
    expect(signWebhookBody("It's a Secret to Everybody", "Hello, World!")).toBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  });
});
