// A date cursor cannot tell two changes of one day apart: a row changed again
// on the day it was copied would never be copied again. The sync refuses it
// at start with the fixes, and each fix works when applied.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, runMain, settle } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

const SETUP = `CREATE TABLE public.orders (id int PRIMARY KEY, qty int NOT NULL,
    updated_at date NOT NULL DEFAULT current_date);
  CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.updated_at := current_date; RETURN NEW; END $$;
  CREATE TRIGGER touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch();
  INSERT INTO public.orders SELECT g, 1 FROM generate_series(1, 50) g;`;

Deno.test("a date cursor is refused at start with fixes that work: a timestamptz cursor, or a full refresh", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    const env = db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "orders" });
    const refused = await runMain(["sync", "--once"], env);
    assertEquals(refused.code, 2, refused.stderr);
    assertEquals(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assertMatch(
      refused.stderr,
      /^error CONFIG_INVALID: Cannot sync public\.orders by its cursor column "updated_at": it is a date, .*ALTER TABLE "public"\."orders" ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now\(\) .*"mode": "full_refresh"/,
    );

    // The second fix: copied whole each cycle.
    const file = `${db.dir}/sync.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ tables: { "public.orders": { mode: "full_refresh" } } }),
    );
    const whole = await runMain(["sync", "--once"], { ...env, SYNC_CONFIG: file });
    assertEquals(whole.code, 0, whole.stderr);

    // The first fix, as the message spells it; changes on one day all arrive.
    await db.sql(`SET ROLE ${db.user};
      ALTER TABLE "public"."orders" ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();
      CREATE FUNCTION public.touch_changed() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN NEW.changed_at := now(); RETURN NEW; END $$;
      CREATE TRIGGER touch_changed BEFORE UPDATE ON public.orders FOR EACH ROW
        EXECUTE FUNCTION public.touch_changed();`);
    const byTime = { ...db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "orders" }) };
    byTime.CURSOR_COLUMN = "changed_at";
    byTime.DUCKDB_PATH = `${db.dir}/lake/by_time.duckdb`;
    byTime.STATE_DIR = `${db.dir}/state_by_time`;
    let r = await runMain(["sync", "--once"], byTime);
    assertEquals(r.code, 0, r.stderr);
    for (const qty of [2, 3]) {
      await db.sql(`UPDATE public.orders SET qty = ${qty} WHERE id = 1`);
      await settle();
      r = await runMain(["sync", "--once"], byTime);
      assertEquals(r.code, 0, r.stderr);
      const [row] = await duckRows(
        byTime.DUCKDB_PATH,
        "SELECT qty FROM public_orders WHERE id = 1",
      );
      assertEquals(row?.qty, qty, "a second change on the same day arrives");
    }
  }));
