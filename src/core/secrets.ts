// Owns secret hygiene: masking passwords in connection URLs and scrubbing known
// secrets out of any text before it reaches a log line, the UI or an error,
// where they stand as secrets (never inside a longer name).

const URL_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):(\S*)@([^@\s]*)$/i;

/**
 * postgres://user:secret@host/db -> postgres://user:***@host/db. The password
 * runs to the last "@" (an unencoded "@" in a password is what pg accepts too),
 * and a password=... query parameter is masked as well.
 */
export function maskUrl(url: string): string {
  return url
    .replace(URL_WITH_PASSWORD, "$1:***@$3")
    .replace(/([?&]password=)[^&\s]*/gi, "$1***");
}

/** The password in a URL (userinfo or password= parameter), decoded too. */
export function urlPasswords(url: string): string[] {
  const found: string[] = [];
  const userinfo = URL_WITH_PASSWORD.exec(url)?.[2];
  if (userinfo) found.push(userinfo);
  for (const m of url.matchAll(/[?&]password=([^&\s]*)/gi)) if (m[1]) found.push(m[1]);
  for (const raw of [...found]) {
    try {
      const decoded = decodeURIComponent(raw);
      if (decoded !== raw) found.push(decoded);
    } catch { /* not percent-encoded */ }
  }
  return found;
}

/** Letters, digits, _ and $: what a name (a table, a column, a role) is made of. */
const NAME_CHAR = /[\p{L}\p{N}_$]/u;

/**
 * Masks URLs, then every occurrence of each secret (longest first) where it
 * stands as a secret: not where it is part of a longer name (the table
 * secret_salaries with the password "secret"), which is shown whole, so that
 * a name and a command that names it (GRANT SELECT ON ...) stay exact.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.split(/(\s+)/).map((token) =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(token) ? maskUrl(token) : token
  ).join("");
  const ordered = [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  for (const secret of ordered) out = maskOutsideNames(out, secret);
  return out;
}

function maskOutsideNames(text: string, secret: string): string {
  // A secret's edge that is a name character joins a name character next to it.
  const joinsBefore = NAME_CHAR.test(secret[0]!);
  const joinsAfter = NAME_CHAR.test(secret.at(-1)!);
  let out = "";
  let from = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, from)) {
    const before = text[at - 1];
    const after = text[at + secret.length];
    const inName = (joinsBefore && before !== undefined && NAME_CHAR.test(before)) ||
      (joinsAfter && after !== undefined && NAME_CHAR.test(after));
    out += text.slice(from, at) + (inName ? secret : "***");
    from = at + secret.length;
  }
  return out + text.slice(from);
}
