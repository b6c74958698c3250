// Owns the names of the fuzz harness's value and operation classes, and the list
// of classes that hit defects known (and being fixed) at the time of writing, so a
// search can be told to step past them (`--exclude known` or FUZZ_EXCLUDE).

/** Every class a generated value or operation can belong to. */
export const CLASSES = [
  "cr", // a CR (lone or in CRLF) inside a text value
  "lf", // a LF inside a text value
  "feff", // a leading U+FEFF
  "bc", // BC dates and timestamps
  "infinity", // infinite dates and timestamps
  "numeric_nan", // NaN in a numeric(p,s) column
  "big_value", // a value of about 10 MB
  "table_space", // a table name with a space
  "replay", // the replay command
  "disk_full", // PARQUET_DIR on a tiny tmpfs
  "kill", // SIGKILL of a running sync
  "pg_restart", // a PostgreSQL restart between operations
  "late_commit", // a write transaction open during a sync, committed while it runs
  "schema_change", // ADD/DROP/ALTER TYPE/RENAME COLUMN
  "key_retype", // ALTER TYPE of a key column (DuckDB rebuilds the table)
  "reset", // reset --yes and a new bootstrap
  "repair", // verify --repair
] as const;

export type FuzzClass = typeof CLASSES[number];

/**
 * Classes that hit defects known and not yet fixed; drop a class from this list
 * once its fix lands, so the CI seeds cover it again. Every defect the harness
 * found so far is fixed (a leading U+FEFF, a key retyped with a column added),
 * as are those it was written to catch (carriage returns, names with spaces,
 * replay, a full disk).
 */
export const KNOWN_DEFECT_CLASSES: readonly FuzzClass[] = [];

/**
 * Classes the sync refuses by design, with a one-line error instead of a copy:
 * NaN in a numeric(p,s) column (DuckDB's DECIMAL has none: VALUE_UNSUPPORTED,
 * tested in tests/integration/value_unsupported_test.ts). Left out unless asked
 * for by name.
 */
export const REFUSED_BY_DESIGN: readonly FuzzClass[] = ["numeric_nan"];

/** What a run leaves out unless told otherwise: known defects and refusals by design. */
export function defaultExclusions(): string {
  return [...KNOWN_DEFECT_CLASSES, ...REFUSED_BY_DESIGN].join(",");
}

/** Parses "known,kill" style lists; "known" stands for KNOWN_DEFECT_CLASSES. */
export function parseClassList(text: string): Set<FuzzClass> {
  const out = new Set<FuzzClass>();
  for (const raw of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (raw === "known") {
      for (const c of KNOWN_DEFECT_CLASSES) out.add(c);
    } else if ((CLASSES as readonly string[]).includes(raw)) {
      out.add(raw as FuzzClass);
    } else {
      throw new RangeError(
        `Cannot exclude class "${raw}": not one of known, ${CLASSES.join(", ")}`,
      );
    }
  }
  return out;
}
