import * as checkRun from "./check-run.ts";
import * as checkSuite from "./check-suite.ts";
import * as installation from "./installation.ts";
import * as installationRepositories from "./installation-repositories.ts";
import * as pullRequest from "./pull-request.ts";
import * as push from "./push.ts";
import type { Handler } from "./types.ts";

/** One handler per event (X-GitHub-Event). */
export const handlers: Record<string, Handler> = {
  pull_request: pullRequest.handle,
  push: push.handle,
  installation: installation.handle,
  installation_repositories: installationRepositories.handle,
  check_run: checkRun.handle,
  check_suite: checkSuite.handle,
};
