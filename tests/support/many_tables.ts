// Owns the many-small-tables fixture shared by the integration test and the
// bench: schema `many` with `tables` tables of the demo's shape (a bigserial
// key, updated_at kept current by a trigger, its (updated_at, id) index), each
// holding `rows` rows.

export function manyTablesSql(tables: number, rows: number): string {
  const lines = [
    `CREATE SCHEMA many;`,
    `CREATE FUNCTION many.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN NEW.updated_at := now(); RETURN NEW; END; $$;`,
  ];
  for (let i = 0; i < tables; i++) {
    const t = `many.${manyTableName(i)}`;
    lines.push(
      `CREATE TABLE ${t} (id bigserial PRIMARY KEY, email text NOT NULL, plan text NOT NULL,
         lifetime_value numeric(12,2) NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now(),
         updated_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz);`,
      `CREATE INDEX ON ${t} (updated_at, id);`,
      `CREATE TRIGGER touch BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION many.touch_updated_at();`,
      `INSERT INTO ${t} (email, plan, lifetime_value)
         SELECT 'u' || g || '@example.com', 'pro', g * 1.5 FROM generate_series(1, ${rows}) g;`,
    );
  }
  return lines.join("\n");
}

/** The i-th table's name in schema `many` (t000, t001, ...). */
export function manyTableName(i: number): string {
  return `t${String(i).padStart(3, "0")}`;
}
