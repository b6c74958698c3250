// Owns secret hygiene: masking passwords in connection URLs and scrubbing known
// secrets out of any text before it reaches a log line, the UI or an error.

/** postgres://user:secret@host/db -> postgres://user:***@host/db */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@]*@/i, "$1:***@");
}

/** Replaces every occurrence of each secret (and masks URLs) in text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.replace(
    /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi,
    "$1:***@",
  );
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}
