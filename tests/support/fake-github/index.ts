// A fake GitHub for tests: real HTTP on 127.0.0.1, real git objects, responses
// validated against GitHub's REST description. See server.ts.
export { type Fault, FakeGitHub, type FakeGitHubOptions, HttpError, type LogEntry, startFakeGitHub } from "./server.ts";
export { example, findOperation, validate, validateResponse } from "./openapi.ts";
export { deliverWebhook, signWebhookBody, validateWebhookPayload, webhookExample, webhookExampleNames, webhookSpec } from "./webhooks.ts";
