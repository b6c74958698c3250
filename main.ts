// The program's entry: runs the command line (src/cli) with the process's
// arguments and exits with its code. The terminal UI lives in ui/, above src/,
// so its entry is passed in here and loaded only when a UI is started.

import { runCli } from "./src/mod.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    startTui: (options) => import("./ui/tui.tsx").then((ui) => ui.runTui(options)),
  });
  Deno.exit(code);
}
