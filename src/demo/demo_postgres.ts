// Owns the embedded demo database: PGlite (PostgreSQL compiled to WASM) served
// over the Postgres wire protocol on 127.0.0.1, with its data under STATE_DIR so
// a restart resumes. On first start it loads postgres/init/*.sql. The sync then
// talks to it through the same pg code path as to a real server.

import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { join } from "node:path";

import { DEMO_DIR_NAME, DEMO_PORT_FILE } from "./demo_files.ts";

/** The demo schema and seed rows, found relative to this module (works in a compiled binary). */
const INIT_SQL_FILES = [
  new URL("../../postgres/init/01_schema.sql", import.meta.url),
  new URL("../../postgres/init/02_seed.sql", import.meta.url),
];

export interface EmbeddedPostgres {
  readonly port: number;
  stop(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(stateDir: string): Promise<EmbeddedPostgres> {
  const dataDir = join(stateDir, DEMO_DIR_NAME);
  const initialized = await exists(join(dataDir, "PG_VERSION"));
  await Deno.mkdir(stateDir, { recursive: true });
  const db = await PGlite.create({ dataDir });
  if (!initialized) {
    for (const file of INIT_SQL_FILES) await db.exec(await Deno.readTextFile(file));
  }
  const server = new PGLiteSocketServer(
    {
      db,
      host: "127.0.0.1",
      port: 0,
      maxConnections: 16,
    } as ConstructorParameters<typeof PGLiteSocketServer>[0],
  );
  await server.start();
  const address = (server as unknown as { server?: { address(): { port: number } } }).server
    ?.address();
  const port = address?.port ?? (server as unknown as { port: number }).port;
  await Deno.writeTextFile(join(stateDir, DEMO_PORT_FILE), String(port));
  return {
    port,
    async stop() {
      await Deno.remove(join(stateDir, DEMO_PORT_FILE)).catch(() => {});
      await server.stop();
      await db.close();
    },
  };
}
