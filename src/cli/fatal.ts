// Owns the command line's last word on a failure: one line (text, or JSON with
// LOG_FORMAT=json), made from the scrubbed fatal event, with a hint when the
// unconfigured default address refused the connection.

import type { FatalEvent } from "../host/scrub_event.ts";

/** "error CODE: message" or one JSON object; the message on one line. */
export function fatalLine(
  fatal: FatalEvent,
  options: { readonly json: boolean; readonly at: Date; readonly hint?: string },
): string {
  const message = fatal.message.replaceAll("\n", " ") + (options.hint ?? "");
  return options.json
    ? JSON.stringify({
      time: options.at.toISOString(),
      type: "fatal",
      code: fatal.code,
      message,
      exitCode: fatal.exitCode,
    })
    : `error ${fatal.code}: ${message}`;
}

/**
 * With no Postgres configured, `sync`, `verify` and the like use the docker
 * compose defaults (localhost:5437); a refused connection there most likely
 * means the user expected the demo or their own server.
 */
export function defaultsHint(code: string, postgresConfigured: boolean): string {
  if (code !== "PG_UNREACHABLE" || postgresConfigured) return "";
  return "; nothing is configured, so this is the docker compose database's address: start it " +
    "(docker compose up -d postgres), set DATABASE_URL for your own server, or use `deno task start` " +
    "for the embedded demo";
}
