// Owns secret hygiene: masking passwords in connection URLs and scrubbing known
// secrets out of any text before it reaches a log line, the UI or an error.

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

/** Replaces every occurrence of each secret (longest first) and masks URLs. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.split(/(\s+)/).map((token) =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(token) ? maskUrl(token) : token
  ).join("");
  const ordered = [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  for (const secret of ordered) out = out.split(secret).join("***");
  return out;
}
