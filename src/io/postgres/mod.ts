// The PostgreSQL side of the sync in one import: connecting, the catalog,
// COPY streaming and the keyset queries (each in src/io/postgres/).

export * from "./connection.ts";
export * from "./catalog.ts";
export * from "./copy.ts";
export * from "./keyset_queries.ts";
