// One server is one source however it is reached (unix socket, localhost, its
// address): the checkpoint records its system identifier. Another server
// behind the same host text and port is another source (SOURCE_CHANGED),
// even with the same database, role and table. Starts its own clusters: one
// of them is stopped and another started on its port.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { attachCluster, startCluster } from "../support/pg_cluster.ts";
import { createTestDb, runMain } from "../support/fixture.ts";

Deno.test("a unix socket, localhost and 127.0.0.1 are one source; another server on the same port is not", async () => {
  const a = await startCluster();
  const b = await startCluster();
  const db = await createTestDb(a);
  let moved: ReturnType<typeof attachCluster> | null = null;
  try {
    const first = await runMain(["sync", "--once"], db.env());
    assertEquals(first.code, 0, first.stderr);
    const status = JSON.parse((await runMain(["status", "--json"], db.env())).stdout);
    assertMatch(status[0].origin, /^127\.0\.0\.1:\d+\/\w+, system \d+$/);
    await db.sql(
      "INSERT INTO analytics.subscriptions (email, plan) VALUES ('sock@example.com', 'pro')",
    );
    // The socket directory as the host (libpq's form), then localhost.
    for (const host of [a.dataDir, "localhost"]) {
      const r = await runMain(["sync", "--once"], db.env({ POSTGRES_HOST: host }));
      assertEquals(r.code, 0, `${host}: ${r.stderr}`);
    }
    const verify = await runMain(["verify"], db.env({ POSTGRES_HOST: a.dataDir }));
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);

    // Another server, same database, role, password and table, on a's port.
    await b.psql(`CREATE ROLE ${db.user} LOGIN PASSWORD '${db.password}'`);
    await b.psql(`CREATE DATABASE ${db.name} OWNER ${db.user}`);
    await b.psql(
      `SET ROLE ${db.user}; ${await Deno.readTextFile(
        new URL("../../postgres/init/01_schema.sql", import.meta.url),
      )}`,
      db.name,
    );
    await b.pause();
    await a.pause();
    moved = attachCluster(a.port, b.dataDir);
    await moved.resume();
    const other = await runMain(["sync", "--once"], db.env());
    assertEquals(other.code, 2, other.stderr);
    assertMatch(
      other.stderr,
      /^error SOURCE_CHANGED: The checkpoint for analytics_subscriptions in .* was made from \S+:\d+\/\w+, system (\d+), not 127\.0\.0\.1:\d+\/\w+, system (?!\1)\d+:/,
    );
  } finally {
    if (moved) await moved.pause();
    await a.stop();
    await b.stop();
    await db.cleanup();
  }
});
