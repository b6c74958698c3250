// Owns when two sources are the same server and database: the checkpoint
// records "host:port/db", and the usual loopback names of one machine
// (localhost, 127.0.0.1, ::1) compare equal. Other 127.x addresses do not:
// two servers can listen on 127.0.0.1 and 127.0.0.2 with the same port.

/** "host:port/db" with a loopback host written one way, for comparing. */
function canonical(origin: string): string {
  const m = /^(.*):(\d+)\/(.*)$/s.exec(origin);
  if (!m) return origin;
  const host = m[1]!.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const loopback = host === "localhost" || host === "::1" || host === "127.0.0.1";
  return `${loopback ? "localhost" : host}:${m[2]}/${m[3]}`;
}

/** Whether two recorded origins name the same server and database. */
export function sameOrigin(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}
