// The PostgreSQL side of the sync in one import: connecting, the catalog,
// COPY streaming and the keyset queries (each in src/io/postgres/).

export * from "./postgres/connection.ts";
export * from "./postgres/catalog.ts";
export * from "./postgres/copy.ts";
export * from "./postgres/keyset_queries.ts";
