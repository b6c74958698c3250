import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { loadConfig } from "../../src/core/config.ts";
import { SyncError } from "../../src/core/errors.ts";
import {
  decideSync,
  planTables,
  type Relation,
  type TableShape,
} from "../../src/core/table_plan.ts";
import { parseSyncFile } from "../../src/core/sync_file.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

const RELATIONS: Relation[] = [
  { schema: "shop", table: "orders", kind: "r", isPartition: false },
  { schema: "shop", table: "events", kind: "p", isPartition: false },
  { schema: "shop", table: "events_2024", kind: "r", isPartition: true },
  { schema: "shop", table: "order_view", kind: "v", isPartition: false },
  { schema: "shop", table: "remote", kind: "f", isPartition: false },
  { schema: "public", table: "countries", kind: "r", isPartition: false },
];

function thrown(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (error) {
    assert(error instanceof SyncError, String(error));
    return error;
  }
  throw new Error("expected an error");
}

Deno.test("planTables: schema.* takes tables and partitioned parents, not partitions or views", () => {
  const config = loadConfig(env({ POSTGRES_TABLES: "shop.*" }));
  const { plans, skipped } = planTables(config, RELATIONS);
  assertEquals(plans.map((p) => p.source), ["shop.orders", "shop.events"]);
  assertEquals(plans.map((p) => p.target), ["shop_orders", "shop_events"]);
  assert(plans.every((p) => !p.explicit));
  assertMatch(skipped.join("\n"), /1 partition\(s\) \(synced through their partitioned parent/);
});

Deno.test("planTables: a view or foreign table is synced when named, a missing name is kept as missing", () => {
  const config = loadConfig(env({ POSTGRES_TABLES: "shop.order_view, shop.remote,shop.nope" }));
  const { plans } = planTables(config, RELATIONS);
  assertEquals(plans.map((p) => [p.source, p.missing]), [
    ["shop.order_view", false],
    ["shop.remote", false],
    ["shop.nope", true],
  ]);
});

Deno.test("planTables: one table keeps DUCKDB_TABLE and POSTGRES_SCHEMA defaults", () => {
  const config = loadConfig(
    env({ POSTGRES_TABLE: "orders", POSTGRES_SCHEMA: "shop", DUCKDB_TABLE: "o" }),
  );
  const { plans } = planTables(config, RELATIONS);
  assertEquals(plans.map((p) => [p.source, p.target, p.explicit]), [["shop.orders", "o", true]]);
});

Deno.test("planTables: sync-file overrides apply per table, mode skip leaves a table out", () => {
  const text = JSON.stringify({
    include: ["shop.*", "public.countries"],
    tables: {
      "shop.orders": { cursor: "modified_at", key: ["id"], target: "orders" },
      "shop.events": { mode: "skip" },
      "public.countries": { mode: "full_refresh", refresh_every: 5 },
    },
  });
  const config = loadConfig(env({ SYNC_CONFIG: "sync.json" }), {}, () => text);
  const { plans, skipped } = planTables(config, RELATIONS);
  assertEquals(plans.map((p) => p.target), ["orders", "public_countries"]);
  assertEquals(plans[0]!.cursorColumn, "modified_at");
  assert(plans[0]!.cursorExplicit);
  assertEquals(plans[0]!.primaryKey, ["id"]);
  assertEquals([plans[1]!.mode, plans[1]!.refreshEvery], ["full_refresh", 5]);
  assertMatch(skipped.join("\n"), /shop\.events \(mode skip/);
});

Deno.test("planTables: two tables landing in one DuckDB table is a configuration error", () => {
  const text = JSON.stringify({ tables: { "shop.orders": { target: "public_countries" } } });
  const config = loadConfig(
    env({ POSTGRES_TABLES: "shop.orders,public.countries", SYNC_CONFIG: "f" }),
    {},
    () => text,
  );
  const error = thrown(() => planTables(config, RELATIONS));
  assertMatch(error.message, /both land in DuckDB table public_countries/);
});

const base = loadConfig(env({ POSTGRES_TABLES: "shop.*" }));
const plan = (over: Record<string, unknown> = {}) => ({
  ...planTables(base, RELATIONS).plans[0]!,
  ...over,
});
const shape = (columns: string[], primaryKey: string[], nullable: string[] = []): TableShape => ({
  columns,
  primaryKey,
  notNull: new Set(columns.filter((c) => !nullable.includes(c))),
});

Deno.test("decideSync: cursor and key give incremental", () => {
  assertEquals(decideSync(plan(), shape(["id", "updated_at"], ["id"])), {
    kind: "incremental",
    key: ["id"],
  });
});

Deno.test("decideSync: a date cursor is refused; timestamps of any precision and integers are not", () => {
  const typed = (cursorType: string): TableShape => ({
    ...shape(["id", "updated_at"], ["id"]),
    baseTypes: new Map([["id", "int4"], ["updated_at", cursorType]]),
  });
  const error = thrown(() => decideSync(plan(), typed("date")));
  assertEquals(error.code, "CONFIG_INVALID");
  assertEquals(error.exitCode, 2);
  assert(/it is a date, so a row changed again on the day/.test(error.message), error.message);
  for (const ok of ["timestamptz", "timestamp", "int8", "int4", "numeric"]) {
    assertEquals(decideSync(plan(), typed(ok)).kind, "incremental", ok);
  }
  assertEquals(decideSync(plan({ mode: "full_refresh" }), typed("date")).kind, "full_refresh");
});

Deno.test("decideSync: no cursor column means a full refresh with a reason, unless the cursor was configured", () => {
  const d = decideSync(plan(), shape(["id", "name"], ["id"]));
  assertEquals(d.kind, "full_refresh");
  assert(
    d.kind === "full_refresh" && /no "updated_at" column: copied whole every cycle/.test(d.reason!),
  );
  const error = thrown(() => decideSync(plan({ cursorExplicit: true }), shape(["id"], ["id"])));
  assertEquals(error.code, "CURSOR_COLUMN_MISSING");
});

Deno.test("decideSync: no key is skipped from a wildcard, an error when named, refreshed whole when configured", () => {
  const skipped = decideSync(plan(), shape(["a", "updated_at"], []));
  assert(
    skipped.kind === "skip" &&
      /has no primary key and is skipped .*full_refresh/.test(skipped.reason),
  );
  assertEquals(
    thrown(() => decideSync(plan({ explicit: true }), shape(["a"], []))).code,
    "PRIMARY_KEY_MISSING",
  );
  assertEquals(decideSync(plan({ mode: "full_refresh" }), shape(["a"], [])), {
    kind: "full_refresh",
    key: [],
    reason: null,
  });
});

Deno.test("decideSync: a configured key must exist and be NOT NULL; the cursor cannot be in the key", () => {
  assertMatch(
    thrown(() => decideSync(plan({ primaryKey: ["nope"] }), shape(["id", "updated_at"], [])))
      .message,
    /names column\(s\) nope/,
  );
  assertMatch(
    thrown(() => decideSync(plan(), shape(["id", "updated_at"], ["id"], ["id"]))).message,
    /key column\(s\) id can be NULL/,
  );
  assertEquals(
    thrown(() =>
      decideSync(plan({ primaryKey: ["id", "updated_at"] }), shape(["id", "updated_at"], []))
    ).code,
    "CONFIG_INVALID",
  );
});

Deno.test("parseSyncFile: every problem is named with its place", () => {
  const problems: string[] = [];
  parseSyncFile(
    JSON.stringify({
      include: "shop.*",
      tables: { "orders": { curser: "x", mode: "sometimes", key: [], refresh_every: 0 } },
      extra: 1,
    }),
    "sync.json",
    problems,
  );
  const text = problems.join("\n");
  assertMatch(text, /unknown key "extra"/);
  assertMatch(text, /"include" must be a list/);
  assertMatch(text, /tables\["orders"\]: unknown setting "curser"/);
  assertMatch(text, /mode must be one of incremental, full_refresh, skip/);
  assertMatch(text, /key must be a column name or a list/);
  assertMatch(text, /refresh_every must be a whole number/);
  assertMatch(text, /tables key "orders" must be "schema.table"/);
  const bad: string[] = [];
  parseSyncFile("{nope", "sync.json", bad);
  assertMatch(bad[0]!, /sync\.json is not valid JSON/);
});

Deno.test("loadConfig: POSTGRES_TABLES, sync file errors and the new settings", () => {
  const config = loadConfig(env({ POSTGRES_TABLES: "a.b, c, d.*", POSTGRES_SCHEMA: "s" }));
  assertEquals(config.tables, [
    { schema: "a", table: "b" },
    { schema: "s", table: "c" },
    { schema: "d", table: "*" },
  ]);
  assert(config.multiTable);
  assertEquals([config.concurrency, config.fullRefreshEvery, config.reconcileDeletesEvery], [
    2,
    1,
    0,
  ]);
  assertEquals([config.reconcileDeletesMode, config.wideNumeric], ["delete", "varchar"]);
  const single = loadConfig(env({}));
  assertEquals(single.tables, [{ schema: "analytics", table: "subscriptions" }]);
  assert(!single.multiTable && !single.cursorColumnExplicit);
  const bad = thrown(() =>
    loadConfig(
      env({
        POSTGRES_TABLES: "a.b.c,x.*",
        DUCKDB_TABLE: "t",
        NUMERIC_WIDE: "float",
        RECONCILE_DELETES_MODE: "hide",
        SYNC_CONCURRENCY: "0",
        SYNC_CONFIG: "missing.json",
      }),
      {},
      () => {
        throw new Error("No such file");
      },
    )
  );
  assertEquals(bad.exitCode, 2);
  for (
    const pattern of [
      /POSTGRES_TABLES entry `a\.b\.c` is not schema\.table or schema\.\* \(it has more than one dot/,
      /DUCKDB_TABLE names one target but several tables/,
      /NUMERIC_WIDE="float" must be varchar/,
      /RECONCILE_DELETES_MODE="hide"/,
      /SYNC_CONCURRENCY="0"/,
      /The sync file "missing\.json" \(--config \/ SYNC_CONFIG\) cannot be read \(No such file\)/,
    ]
  ) assertMatch(bad.message, pattern);
});

Deno.test("planTables: targets differing only in case are one DuckDB table, refused", () => {
  const config = loadConfig(env({ POSTGRES_TABLES: "public.Orders,public.orders" }));
  const relations: Relation[] = [
    { schema: "public", table: "Orders", kind: "r", isPartition: false },
    { schema: "public", table: "orders", kind: "r", isPartition: false },
  ];
  assertMatch(
    thrown(() => planTables(config, relations)).message,
    /would both land in DuckDB table/,
  );
});

Deno.test("decideSync: CURSOR_COLUMN set with several tables is no demand on each; alone it is", () => {
  const many = loadConfig(env({ POSTGRES_TABLES: "shop.*", CURSOR_COLUMN: "last_modified" }));
  const planned = planTables(many, RELATIONS).plans[0]!;
  assert(!planned.cursorExplicit);
  const d = decideSync(planned, shape(["id"], ["id"]));
  assert(d.kind === "full_refresh" && /no "last_modified" column/.test(d.reason!));
  const one = loadConfig(env({ POSTGRES_TABLES: "shop.orders", CURSOR_COLUMN: "last_modified" }));
  assert(planTables(one, RELATIONS).plans[0]!.cursorExplicit);
});

Deno.test("decideSync: a view is copied whole with a reason unless configured incremental", () => {
  const view = { ...shape(["id", "updated_at"], [], ["id"]), isTable: false };
  const d = decideSync(plan({ explicit: true }), view);
  assert(d.kind === "full_refresh" && d.key.length === 0 && /is a view/.test(d.reason!));
  assertEquals(decideSync(plan({ mode: "full_refresh" }), view), {
    kind: "full_refresh",
    key: [],
    reason: null,
  });
  assertEquals(
    thrown(() => decideSync(plan({ mode: "incremental", primaryKey: ["id"] }), view)).code,
    "PRIMARY_KEY_MISSING",
  );
});
