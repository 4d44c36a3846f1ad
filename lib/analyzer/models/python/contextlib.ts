import type { LibraryModel } from "../../flow/models.ts";

// contextlib and friends: objects that take ownership of a resource (`closing(conn)`,
// `stack.enter_context(cm)`, `stack.push_async_callback(conn.close)`), and standard calls
// that run their function argument now (a release passed as a callback is a release).
export const contextlib: LibraryModel = {
  id: "contextlib",
  language: "python",
  versions: "Python >=3.8 <3.14",
  packages: ["contextlib", "asyncio", "starlette", "fastapi", "anyio"],
  exports: {
    "contextlib.closing": { call: { returns: "contextlib.closing", takesArgs: [0] } },
    "contextlib.aclosing": { call: { returns: "contextlib.closing", takesArgs: [0] } },
    "contextlib.ExitStack": { call: { returns: "contextlib.ExitStack" } },
    "contextlib.AsyncExitStack": { call: { returns: "contextlib.ExitStack" } },
    "asyncio.to_thread": { call: { invokesArgs: [{ index: 0, when: "now" }] } },
    "starlette.concurrency.run_in_threadpool": { call: { invokesArgs: [{ index: 0, when: "now" }] } },
    "fastapi.concurrency.run_in_threadpool": { call: { invokesArgs: [{ index: 0, when: "now" }] } },
    "anyio.to_thread.run_sync": { call: { invokesArgs: [{ index: 0, when: "now" }] } },
  },
  types: [
    { name: "contextlib.closing" },
    {
      name: "contextlib.ExitStack",
      methods: {
        enter_context: { takesArgs: [0] },
        enter_async_context: { takesArgs: [0] },
        callback: { takesArgs: [0] },
        push: { takesArgs: [0] },
        push_async_callback: { takesArgs: [0] },
        push_async_exit: { takesArgs: [0] },
      },
    },
  ],
};
