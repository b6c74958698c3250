-- Demo schema for postgres-duckdb-sync: a SaaS subscriptions table with a
-- last-modified cursor (updated_at, kept current by a trigger), soft deletes
-- (deleted_at) and the (updated_at, id) index that keyset paging walks.
-- Role-independent: works as the docker entrypoint's user or in tests.

CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE IF NOT EXISTS analytics.subscriptions (
  id             bigserial PRIMARY KEY,
  email          text NOT NULL,
  plan           text NOT NULL,
  lifetime_value numeric(12,2) NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz
);

CREATE INDEX IF NOT EXISTS subscriptions_updated_at_id_idx
  ON analytics.subscriptions (updated_at, id);

CREATE OR REPLACE FUNCTION analytics.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS subscriptions_touch_updated_at ON analytics.subscriptions;
CREATE TRIGGER subscriptions_touch_updated_at
  BEFORE UPDATE ON analytics.subscriptions
  FOR EACH ROW EXECUTE FUNCTION analytics.touch_updated_at();

-- seed-changes and the UI's `s` key write fake rows only into a table marked
-- like this, never into a production table that happens to look similar.
COMMENT ON TABLE analytics.subscriptions IS 'postgres-duckdb-sync demo table';
