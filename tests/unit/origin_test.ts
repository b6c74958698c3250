// sameOrigin() (src/core/origin.ts): loopback names of one server compare equal;
// other hosts, ports and databases do not.

import { assert } from "../support/assert.ts";
import { sameOrigin } from "../../src/core/origin.ts";

Deno.test("sameOrigin() treats localhost, 127.0.0.1 and ::1 as one server", () => {
  assert(sameOrigin("127.0.0.1:5432/shop", "localhost:5432/shop"));
  assert(sameOrigin("[::1]:5432/shop", "LOCALHOST:5432/shop"));
  assert(sameOrigin("db.internal:5432/shop", "db.internal:5432/shop"));
  assert(!sameOrigin("127.0.0.1:5432/shop", "localhost:5433/shop"));
  assert(!sameOrigin("127.0.0.1:5432/shop", "localhost:5432/other"));
  assert(!sameOrigin("db1:5432/shop", "db2:5432/shop"));
  assert(!sameOrigin("embedded demo database", "localhost:5432/postgres"));
  assert(!sameOrigin("127.0.0.2:5432/shop", "127.0.0.1:5432/shop"));
});
