import { assertEquals } from "../support/assert.ts";
import { maskUrl, scrub } from "../../src/core/secrets.ts";

Deno.test("maskUrl() masks the password of a postgres URL", () => {
  assertEquals(maskUrl("postgres://user:secret@host/db"), "postgres://user:***@host/db");
  assertEquals(
    maskUrl("postgresql://app:p%40ss@db.example.com:6543/app?sslmode=require"),
    "postgresql://app:***@db.example.com:6543/app?sslmode=require",
  );
});

Deno.test("maskUrl() masks an empty password and an empty user", () => {
  assertEquals(maskUrl("postgres://user:@host/db"), "postgres://user:***@host/db");
  assertEquals(maskUrl("postgres://:pw@host/db"), "postgres://:***@host/db");
});

Deno.test("maskUrl() leaves URLs without a password unchanged", () => {
  assertEquals(maskUrl("postgres://user@host/db"), "postgres://user@host/db");
  assertEquals(maskUrl("postgres://host:5432/db"), "postgres://host:5432/db");
  assertEquals(maskUrl("not a url"), "not a url");
});

Deno.test("maskUrl() is case-insensitive about the scheme", () => {
  assertEquals(maskUrl("POSTGRES://u:pw@h/d"), "POSTGRES://u:***@h/d");
});

Deno.test("scrub() replaces every occurrence of each secret", () => {
  assertEquals(
    scrub("password hunter22 rejected; hunter22 again", ["hunter22"]),
    "password *** rejected; *** again",
  );
  assertEquals(scrub("a=alpha9 b=bravo9", ["alpha9", "bravo9"]), "a=*** b=***");
});

Deno.test("scrub() masks passwords inside URLs found in text", () => {
  assertEquals(
    scrub("cannot connect to postgres://app:topsecret@db:5432/x (timeout)", []),
    "cannot connect to postgres://app:***@db:5432/x (timeout)",
  );
  assertEquals(
    scrub("a postgres://u:one@h1/d and mysql://v:two@h2/e", []),
    "a postgres://u:***@h1/d and mysql://v:***@h2/e",
  );
});

Deno.test("scrub() does not mistake host:port or e-mail addresses for credentials", () => {
  const text = "connecting to postgres://db.internal:5432/app failed, mail ops@example.com";
  assertEquals(scrub(text, []), text);
});

Deno.test("scrub() ignores secrets shorter than three characters", () => {
  assertEquals(scrub("a table of ab", ["a", "ab", ""]), "a table of ab");
});

Deno.test("scrub() treats secrets literally, not as patterns", () => {
  assertEquals(scrub("x.*y and xzzy", ["x.*y"]), "*** and xzzy");
  assertEquals(scrub("cost $1.00 and $1x00", ["$1.00"]), "cost *** and $1x00");
});

Deno.test("scrub() leaves text without secrets unchanged", () => {
  assertEquals(scrub("nothing to hide here", ["hunter22"]), "nothing to hide here");
});

Deno.test("maskUrl() masks a password with an unencoded @ and a password= parameter", () => {
  assertEquals(maskUrl("postgres://u:p@ssword@host/db"), "postgres://u:***@host/db");
  assertEquals(
    maskUrl("postgres://u@host/db?sslmode=require&password=topsecret"),
    "postgres://u@host/db?sslmode=require&password=***",
  );
});

Deno.test("scrub() replaces longer secrets first so no tail of one leaks", () => {
  assertEquals(scrub("pw is abcdef", ["abc", "abcdef"]), "pw is ***");
});

Deno.test("scrub() leaves a secret inside a longer name alone, so names and commands stay exact", () => {
  assertEquals(
    scrub(
      "Postgres refused access: permission denied for table secret_salaries (e.g. GRANT SELECT ON public.secret_salaries TO sync)",
      ["secret"],
    ),
    "Postgres refused access: permission denied for table secret_salaries (e.g. GRANT SELECT ON public.secret_salaries TO sync)",
  );
  assertEquals(
    scrub("table public_secret_salaries, column mysecret", ["secret"]),
    "table public_secret_salaries, column mysecret",
  );
  // Where it stands as a secret, it is masked: quoted, after =, between spaces, at either end.
  assertEquals(
    scrub(`secret: password=secret 'secret' "secret" (secret) secret`, ["secret"]),
    `***: password=*** '***' "***" (***) ***`,
  );
  // A secret whose edges are not name characters is masked wherever it is.
  assertEquals(scrub("x-pw!9-y", ["-pw!9-"]), "x***y");
});
