// sslmode in DATABASE_URL: libpq's meaning, node-postgres's SECURITY WARNING
// never printed, and an SSL mismatch (server without SSL, server that insists on
// SSL, certificate that fails verification) is one line naming the fix, exit 2,
// with no password shown.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, runMain, sharedCluster, type TestDb } from "../support/fixture.ts";
import { startCluster } from "../support/pg_cluster.ts";
import { loadConfig } from "../../src/core/config.ts";
import { classifyPgError } from "../../src/io/postgres/mod.ts";

/** DATABASE_URL for `db` on `host` with a query string. */
function urlOf(db: TestDb, query: string, host = "127.0.0.1"): string {
  return `postgres://${db.user}:${db.password}@${host}:${db.cluster.port}/${db.name}?${query}`;
}

/** Runs `sync --once` with DATABASE_URL; checks exit code, one-line stderr, no secrets. */
async function syncWith(
  db: TestDb,
  url: string,
  exitCode: number,
  pattern?: RegExp,
  env: Record<string, string> = {},
) {
  const r = await runMain(["sync", "--once"], db.env({ DATABASE_URL: url, ...env }));
  const output = r.stdout + r.stderr;
  assertEquals(r.code, exitCode, output);
  assertEquals(/SECURITY WARNING|Warning:/i.test(output), false, `warning printed: ${output}`);
  assertEquals(output.includes(db.password), false, `password leaked: ${output}`);
  if (pattern) {
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, `one line: ${r.stderr}`);
    assertMatch(lines[0]!, pattern);
  }
  return r;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const display = (db: TestDb, query: string) =>
  escape(`postgres://${db.user}:***@127.0.0.1:${db.cluster.port}/${db.name}?${query}`);

Deno.test("a server without SSL: sslmode=require or prefer is one line naming sslmode=disable", async () => {
  const db = await createTestDb(await sharedCluster());
  try {
    for (const mode of ["require", "prefer"]) {
      await syncWith(
        db,
        urlOf(db, `sslmode=${mode}`),
        2,
        new RegExp(
          `^error PG_SSL_FAILED: The server at ${
            display(db, `sslmode=${mode}`)
          } does not accept SSL connections \\(set sslmode=disable in DATABASE_URL, or enable ssl on the server\\)$`,
        ),
      );
    }
  } finally {
    await db.cleanup();
  }
});

Deno.test("a server without SSL: sslmode=disable and allow sync", async () => {
  const db = await createTestDb(await sharedCluster());
  try {
    await syncWith(db, urlOf(db, "sslmode=disable"), 0);
    await syncWith(db, urlOf(db, "sslmode=allow"), 0);
  } finally {
    await db.cleanup();
  }
});

Deno.test("classifyPgError() names PGSSLMODE when no DATABASE_URL is used", () => {
  const config = loadConfig((name) => ({ POSTGRES_PASSWORD: "pw-secret" } as const)[name]);
  const refused = classifyPgError(
    new Error("The server does not support SSL connections"),
    config,
    ["pw-secret"],
  );
  assertEquals([refused.code, refused.exitCode], ["PG_SSL_FAILED", 2]);
  assertMatch(refused.message, /\(set PGSSLMODE=disable, or enable ssl on the server\)$/);
  const cert = Object.assign(new Error("self-signed certificate"), {
    code: "DEPTH_ZERO_SELF_SIGNED_CERT",
  });
  const error = classifyPgError(cert, config, ["pw-secret"]);
  assertEquals([error.code, error.exitCode, error.transient], ["PG_SSL_FAILED", 2, false]);
  assertMatch(
    error.message,
    /failed verification \(self-signed certificate\): add sslrootcert=\/path\/to\/ca\.pem naming the CA that signed it, or set PGSSLMODE=no-verify to encrypt without verifying the certificate$/,
  );
});

/** Runs a shell command in `cwd`, failing the test if it fails. */
async function sh(cwd: string, command: string): Promise<void> {
  const out = await new Deno.Command("sh", { args: ["-c", command], cwd, stderr: "piped" })
    .output();
  assert(out.success, `${command}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("a server with SSL: require encrypts without verifying, verify-* check the certificate", async () => {
  const cluster = await startCluster();
  const certs = await Deno.makeTempDir({ prefix: "pds-ssl-" });
  try {
    const db = await createTestDb(cluster);
    // A private CA, and a server certificate it signed for "localhost" only.
    await sh(
      certs,
      [
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr",
        "printf 'subjectAltName=DNS:localhost\\n' > san.ext",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt",
        `cp server.crt server.key ${cluster.dataDir}/`,
        `chmod 600 ${cluster.dataDir}/server.key`,
        Deno.uid() === 0
          ? `chown postgres ${cluster.dataDir}/server.crt ${cluster.dataDir}/server.key`
          : "true",
      ].map((c) => `${c} 2>/dev/null`).join(" && "),
    );
    // SSL on, and the test role may only connect with SSL (so success proves SSL).
    await Deno.writeTextFile(
      `${cluster.dataDir}/pg_hba.conf`,
      [
        "local all all trust",
        "host all postgres 127.0.0.1/32 scram-sha-256",
        "hostssl all all 127.0.0.1/32 scram-sha-256",
        "",
      ].join("\n"),
    );
    await cluster.psql("ALTER SYSTEM SET ssl = on");
    await cluster.psql("SELECT pg_reload_conf()");
    for (let i = 0; i < 50 && (await cluster.psql("SHOW ssl")) !== "on"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const ca = `sslrootcert=${certs}/ca.pem`;

    await syncWith(
      db,
      urlOf(db, "sslmode=disable"),
      2,
      new RegExp(
        `^error PG_AUTH_FAILED: Postgres at ${
          display(db, "sslmode=disable")
        } refused the connection: .*no encryption \\(if the server accepts only SSL connections, set sslmode=require in DATABASE_URL; otherwise add a pg_hba\\.conf entry`,
      ),
    );
    // libpq's require: encrypted, the certificate (unknown CA, other host) not verified.
    await syncWith(db, urlOf(db, "sslmode=require"), 0);
    await syncWith(db, urlOf(db, `sslmode=verify-ca&${ca}`), 0);
    // verify-full by the name the certificate lists (another source: its own state).
    await syncWith(db, urlOf(db, `sslmode=verify-full&${ca}`, "localhost"), 0, undefined, {
      STATE_DIR: `${db.dir}/localhost/state`,
      DUCKDB_PATH: `${db.dir}/localhost/warehouse.duckdb`,
      PARQUET_DIR: `${db.dir}/localhost/parquet`,
    });
    await syncWith(
      db,
      urlOf(db, "sslmode=verify-full"),
      2,
      /^error PG_SSL_FAILED: The server certificate at postgres:\/\/u_\w+:\*\*\*@127\.0\.0\.1:\d+\/\w+\?sslmode=verify-full failed verification \(unable to verify the first certificate\): add sslrootcert=\/path\/to\/ca\.pem naming the CA that signed it, or set sslmode=require in DATABASE_URL to encrypt without verifying the certificate$/,
    );
    await syncWith(
      db,
      urlOf(db, `sslmode=verify-full&${ca}`),
      2,
      /^error PG_SSL_FAILED: The server certificate at .*failed verification \(Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list\): connect by a host name the certificate lists, use sslmode=verify-ca with sslrootcert=.*, or set sslmode=require in DATABASE_URL to encrypt without verifying the certificate$/,
    );
    await db.cleanup();
  } finally {
    await cluster.stop();
    await Deno.remove(certs, { recursive: true }).catch(() => {});
  }
});
