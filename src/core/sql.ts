// Owns quoting for generated SQL (PostgreSQL and DuckDB share the rules we use):
// identifiers in double quotes, literals in single quotes. Every generated
// statement goes through these; values never reach SQL unquoted.

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A standard-conforming string literal. Rejects NUL, which no text can hold. */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) {
    throw new RangeError("Cannot quote literal: value contains a NUL byte");
  }
  return `'${value.replaceAll("'", "''")}'`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * A source relation as it appears in FROM. An ordinary table is read ONLY: its
 * inheritance children are tables of their own (own rows, own keys), and
 * reading them with the parent would copy and merge their rows into the
 * parent's copy. A partitioned table ("p") holds no rows itself, so it is read
 * whole (its partitions).
 */
export function sourceFrom(relation: {
  readonly schema: string;
  readonly table: string;
  readonly kind?: string;
}): string {
  const name = qualified(relation.schema, relation.table);
  return relation.kind === "p" ? name : `ONLY ${name}`;
}

/**
 * A name for SQL shown to a user (a suggested GRANT): bare when Postgres reads it
 * back unchanged (lower case, no special characters), else quoted.
 */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}
