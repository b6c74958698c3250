// Owns reading a PostgreSQL connection URL (DATABASE_URL / POSTGRES_URL): its
// sslmode given libpq's meaning for node-postgres, the files it names checked,
// and the user, database and server it names (for messages and for the
// checkpoint's record of where rows came from). Pure: files are read through
// the injected reader.

/** Reads a file's text (injected so that loadConfig stays pure). */
export type ReadText = (path: string) => string;

export interface PgConnectionConfig {
  /**
   * Set when DATABASE_URL / POSTGRES_URL is used: the URL as given, except that
   * an sslmode in it is rewritten so that node-postgres applies libpq's meaning
   * (see pgConnectionUrl).
   */
  readonly connectionString: string | null;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** libpq's sslmode values, and node-postgres's own "no-verify" (read as require). */
const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
  "no-verify",
];

/**
 * The connection string handed to node-postgres: `url` with its sslmode given
 * libpq's meaning. node-postgres 8 reads prefer, require and verify-ca as
 * verify-full (a self-signed certificate fails) and prints a multi-line
 * SECURITY WARNING; with `uselibpqcompat=true` its connection-string parser
 * applies libpq's meaning and prints nothing. So any sslmode (and any
 * uselibpqcompat) is taken out and replaced:
 *
 * - disable: no SSL.
 * - allow: libpq tries without SSL first, then with SSL. node-postgres cannot
 *   fall back, so: no SSL (a server that insists on SSL then refuses the login;
 *   use sslmode=require for it).
 * - prefer: libpq tries SSL first and falls back to no SSL. node-postgres cannot
 *   fall back, so: SSL without certificate verification, and a server without SSL
 *   is a one-line PG_SSL_FAILED error naming sslmode=disable.
 * - require (and node-postgres's no-verify): SSL, certificate not verified;
 *   with sslrootcert, verified against that CA as in libpq (verify-ca).
 * - verify-ca: SSL, certificate verified against sslrootcert (required here:
 *   node-postgres has no default root certificate file), host name not checked.
 * - verify-full: SSL, certificate verified (sslrootcert or the system CAs) and
 *   the host name checked.
 *
 * Without sslmode the URL is left as it is (node-postgres then uses no SSL).
 * Files named by sslrootcert, sslcert and sslkey must be readable: node-postgres
 * reads them while building its client, where a failure would not name the fix.
 */
export function pgConnectionUrl(
  url: string,
  variable: string,
  problems: string[],
  readText: ReadText,
): string {
  const start = url.indexOf("?");
  if (start < 0) return url;
  const hash = url.indexOf("#", start);
  const query = url.slice(start + 1, hash < 0 ? undefined : hash);
  const kept: string[] = [];
  const files: [string, string][] = [];
  let mode: string | null = null;
  for (const pair of query.split("&")) {
    const [key, value] = [...new URLSearchParams(pair)][0] ?? ["", ""];
    if (key === "sslmode") mode = value;
    else if (key !== "uselibpqcompat") kept.push(pair);
    if (key === "sslrootcert" || key === "sslcert" || key === "sslkey") files.push([key, value]);
  }
  for (const [key, path] of files) {
    try {
      readText(path);
    } catch (error) {
      problems.push(
        `${variable} names ${key}=${JSON.stringify(path)}, which cannot be read (${
          error instanceof Error ? error.message : String(error)
        }); point ${key} at a readable PEM file`,
      );
    }
  }
  if (mode === null) return url;
  if (!SSL_MODES.includes(mode)) {
    problems.push(
      `${variable} has sslmode=${
        JSON.stringify(mode)
      }, which is not an SSL mode (use disable, allow, prefer, require, verify-ca or verify-full)`,
    );
    return url;
  }
  if (mode === "verify-ca" && !files.some(([key]) => key === "sslrootcert")) {
    problems.push(
      `${variable} has sslmode=verify-ca but no sslrootcert (add sslrootcert=/path/to/ca.pem to ${variable}, or use sslmode=verify-full to check against the system CAs)`,
    );
    return url;
  }
  const ssl = mode === "disable" || mode === "allow"
    ? "sslmode=disable"
    : `sslmode=${mode === "no-verify" ? "require" : mode}&uselibpqcompat=true`;
  return `${url.slice(0, start)}?${[...kept.filter((p) => p !== ""), ssl].join("&")}`;
}

/** The user or database named in a connection URL (for messages), or null. */
export function urlPart(url: string, part: "user" | "database"): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    const value = part === "user" ? parsed.username : parsed.pathname.slice(1);
    return value ? decodeURIComponent(value) : null;
  } catch {
    return null;
  }
}

export function originOf(url: string, pg: PgConnectionConfig): string {
  if (url) {
    try {
      const parsed = new URL(url);
      // node-postgres lets ?host= and ?port= override the URL's own.
      const host = parsed.searchParams.get("host") || parsed.hostname;
      const port = parsed.searchParams.get("port") || parsed.port || "5432";
      return `${host}:${port}/${decodeURIComponent(parsed.pathname.slice(1))}`;
    } catch { /* reported as a configuration problem */ }
  }
  return `${pg.host}:${pg.port}/${pg.database}`;
}
