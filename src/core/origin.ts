// Owns when two sources are the same server and database. The checkpoint
// records "host:port/db", with the server's system identifier when it could be
// read ("host:port/db, system 7714546171993147254"). With both identifiers,
// the identifier and the database decide: a unix socket, localhost and the
// server's address are one source, and another server behind the same host
// text is another. Without them, the usual loopback names of one machine
// (localhost, 127.0.0.1, ::1) compare equal; other 127.x addresses do not: two
// servers can listen on 127.0.0.1 and 127.0.0.2 with the same port.

const SYSTEM = /^(.*), system (\d+)$/s;

/** An origin with the server's system identifier added. */
export function withSystem(origin: string, systemId: string): string {
  return `${withoutSystem(origin)}, system ${systemId}`;
}

/** The "host:port/db" part of an origin. */
export function withoutSystem(origin: string): string {
  return SYSTEM.exec(origin)?.[1] ?? origin;
}

/** "host:port/db" with a loopback host written one way, for comparing. */
function canonical(origin: string): string {
  const m = /^(.*):(\d+)\/(.*)$/s.exec(origin);
  if (!m) return origin;
  const host = m[1]!.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const loopback = host === "localhost" || host === "::1" || host === "127.0.0.1";
  return `${loopback ? "localhost" : host}:${m[2]}/${m[3]}`;
}

function database(origin: string): string {
  return /^.*:\d+\/(.*)$/s.exec(origin)?.[1] ?? origin;
}

/** Whether two recorded origins name the same server and database. */
export function sameOrigin(a: string, b: string): boolean {
  const sa = SYSTEM.exec(a);
  const sb = SYSTEM.exec(b);
  if (sa && sb) return sa[2] === sb[2] && database(sa[1]!) === database(sb[1]!);
  return canonical(withoutSystem(a)) === canonical(withoutSystem(b));
}

/**
 * sameOrigin as far as the text can tell without asking the server: null when
 * only the host texts differ and `recorded` carries an identifier (it may be
 * the same server under another name).
 */
export function sameOriginOffline(recorded: string, configured: string): boolean | null {
  if (sameOrigin(recorded, configured)) return true;
  const maybe = SYSTEM.test(recorded) && !SYSTEM.test(configured) &&
    database(withoutSystem(recorded)) === database(configured);
  return maybe ? null : false;
}
