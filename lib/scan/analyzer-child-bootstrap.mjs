// The analyzer runs in a child process per scan: cancelling or timing out a scan is
// killing that process (its analysis workers exit when their channel closes), and a
// crash inside the analyzer cannot take the job runner down. It starts without a
// TypeScript loader: register tsx here, then load the real child.
import { register } from "tsx/esm/api";

register();
await import("./analyzer-child.ts");
