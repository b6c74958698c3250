// Owns what the demo database's parts share without loading PGlite: its files
// in STATE_DIR and the messages its worker sends.

/** The embedded database's data directory, inside STATE_DIR. */
export const DEMO_DIR_NAME = "demo-postgres";

/** Holds the port of a running demo database, so other commands can reach it. */
export const DEMO_PORT_FILE = "demo-postgres.port";

export type DemoWorkerMessage =
  | { readonly type: "started"; readonly port: number }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "stopped" };
