// compose.yaml cannot be run here (no Docker engine), so it is parsed and
// checked: the services, the init mount, the port, the healthcheck ordering, and
// that every environment name is one the config module reads.

import { parse } from "yaml";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { CONFIG_ENV_NAMES, loadConfig } from "../../src/core/config.ts";
import { REPO } from "../support/fixture.ts";

// deno-lint-ignore no-explicit-any
const compose = parse(await Deno.readTextFile(`${REPO}/compose.yaml`)) as any;

Deno.test("compose.yaml: postgres service is an official image >= 16 on host port 5437 with the init scripts", () => {
  const pg = compose.services.postgres;
  const [image, tag] = String(pg.image).split(":");
  assertEquals(image, "postgres");
  assert(Number.parseInt(tag!, 10) >= 16, `postgres tag ${tag}`);
  assert(pg.ports.includes("5437:5432"), JSON.stringify(pg.ports));
  assertEquals(pg.environment.POSTGRES_USER, "analyst");
  assertEquals(pg.environment.POSTGRES_PASSWORD, "analyst");
  assert(
    pg.volumes.some((v: string) => v.startsWith("./postgres/init:/docker-entrypoint-initdb.d")),
    JSON.stringify(pg.volumes),
  );
  assertMatch(JSON.stringify(pg.healthcheck.test), /pg_isready/);
  for (const file of Deno.readDirSync(`${REPO}/postgres/init`)) {
    assertMatch(file.name, /^\d\d_.*\.sql$/);
  }
});

Deno.test("compose.yaml: syncer runs the pinned Deno image, the headless loop, after postgres is healthy", () => {
  const syncer = compose.services.syncer;
  const denoVersion = new TextDecoder().decode(
    new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "piped" }).outputSync().stdout,
  ).split(" ")[1];
  assertEquals(syncer.image, `denoland/deno:${denoVersion}`);
  assertEquals(syncer.command, ["run", "-A", "main.ts", "sync", "--loop"]);
  assertEquals(syncer.depends_on.postgres.condition, "service_healthy");
  for (const dir of ["lake", "parquet", "state"]) {
    assert(syncer.volumes.includes(`./${dir}:/app/${dir}`), `volume for ${dir}`);
  }
  for (const path of ["main.ts", "src", "ui", "postgres", "deno.json", "deno.lock"]) {
    assert(
      syncer.volumes.some((v: string) => v.startsWith(`./${path}:/app/${path}`)),
      `mount for ${path}`,
    );
  }
});

Deno.test("compose.yaml: every syncer environment name is a config variable, and the values load", () => {
  const env = compose.services.syncer.environment as Record<string, string>;
  for (const name of Object.keys(env)) {
    assert(CONFIG_ENV_NAMES.includes(name), `${name} is not read by src/core/config.ts`);
  }
  const config = loadConfig((name) => env[name]);
  assertEquals(config.pg.host, "postgres");
  assertEquals(config.pg.port, 5432);
  assertEquals(config.duckdbTable, "analytics_subscriptions");
  // The host-side defaults reach the compose database.
  const hostDefaults = loadConfig(() => undefined);
  assertEquals(hostDefaults.pg.port, 5437);
  assertEquals(hostDefaults.pg.user, compose.services.postgres.environment.POSTGRES_USER);
});
