// Owns the per-test database scope: a fresh database on the shared cluster (the
// demo schema by default, or tables of the test's own), its temp directory and
// environment, handed to the test and cleaned up afterwards even when it fails.

import { createTestDb, settle, sharedCluster, type TestDb } from "./fixture.ts";

export interface WithDbOptions {
  /** Load postgres/init's demo table (default true) ... */
  readonly demo?: boolean;
  /** ... with its 10,000 seed rows (default true). */
  readonly seedRows?: boolean;
  /** Settings added to every db.env() (a call's own extras still win). */
  readonly env?: Record<string, string>;
  /** SQL run as the database's owner, so that what it creates belongs to the sync role. */
  readonly setup?: string;
}

/** Runs `fn` with a fresh database and temp dir, removing the dir afterwards. */
export async function withDb<T>(
  options: WithDbOptions,
  fn: (db: TestDb) => Promise<T>,
): Promise<T> {
  const created = await createTestDb(await sharedCluster(), {
    demo: options.demo,
    seedRows: options.seedRows,
  });
  const defaults = options.env ?? {};
  const db: TestDb = {
    ...created,
    env: (extra = {}) => created.env({ ...defaults, ...extra }),
  };
  try {
    if (options.setup) {
      await db.sql(`SET ROLE ${db.user};\n${options.setup}`);
      await settle();
    }
    return await fn(db);
  } finally {
    await db.cleanup();
  }
}
