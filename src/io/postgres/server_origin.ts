// Owns which server a connection reached: the configured "host:port/db" plus
// the server's system_identifier (pg_control_system()), so that one server
// reached through a unix socket, localhost or its address is one source, and
// another server behind the same host text is another (core/origin.ts).

import type pg from "pg";
import { withSystem } from "../../core/origin.ts";

/** The origin to record and compare; the configured text alone when the server will not say. */
export async function serverOrigin(client: pg.Client, configured: string): Promise<string> {
  // Only a configured server ("host:port/db"); the embedded demo is one by name.
  if (!/:\d+\//.test(configured)) return configured;
  try {
    const r = await client.query("SELECT system_identifier::text AS id FROM pg_control_system()");
    const id = r.rows[0]?.id;
    return typeof id === "string" && /^\d+$/.test(id) ? withSystem(configured, id) : configured;
  } catch {
    // A server or proxy that hides it: the host text decides, as before.
    return configured;
  }
}
