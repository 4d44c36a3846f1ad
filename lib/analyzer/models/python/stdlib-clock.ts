import type { CallModel, LibraryModel } from "../../flow/models.ts";

// Standard-library calls that only read a clock or make an id: they do no I/O that can
// fail, so one between an acquisition and the `try` that releases it (`start =
// time.perf_counter()`) is no exception path.
const pure: { call: CallModel } = { call: { pure: true } };

export const stdlibClock: LibraryModel = {
  id: "python-stdlib-clock",
  language: "python",
  versions: "Python >=3.8 <3.14",
  packages: [],
  exports: {
    "time.time": pure,
    "time.time_ns": pure,
    "time.monotonic": pure,
    "time.monotonic_ns": pure,
    "time.perf_counter": pure,
    "time.perf_counter_ns": pure,
    "time.process_time": pure,
    "datetime.datetime.now": pure,
    "datetime.datetime.utcnow": pure,
    "datetime.date.today": pure,
    "uuid.uuid4": pure,
  },
  types: [],
};
