// sameOrigin() (src/core/origin.ts): loopback names of one server compare equal;
// other hosts, ports and databases do not; with the servers' system
// identifiers recorded, those decide.

import { assert, assertEquals } from "../support/assert.ts";
import { sameOrigin, sameOriginOffline, withoutSystem, withSystem } from "../../src/core/origin.ts";

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

Deno.test("sameOrigin() with system identifiers: the identifier and the database decide", () => {
  const socket = withSystem("/var/run/postgresql:5432/shop", "111");
  assert(sameOrigin(socket, withSystem("10.0.0.5:5432/shop", "111")));
  assert(sameOrigin(socket, withSystem("localhost:5432/shop", "111")));
  assert(!sameOrigin(socket, withSystem("/var/run/postgresql:5432/other", "111")));
  // Another server behind the same host text.
  assert(!sameOrigin(withSystem("db:5432/shop", "111"), withSystem("db:5432/shop", "222")));
  // A checkpoint from before identifiers were recorded: the host text decides.
  assert(sameOrigin("localhost:5432/shop", withSystem("127.0.0.1:5432/shop", "111")));
  assert(!sameOrigin("db1:5432/shop", withSystem("db2:5432/shop", "111")));
  assertEquals(withSystem(withSystem("h:1/d", "1"), "2"), "h:1/d, system 2");
  assertEquals(withoutSystem("h:1/d, system 2"), "h:1/d");
});

Deno.test("sameOriginOffline(): unknown (null) when only the server could tell", () => {
  assertEquals(sameOriginOffline(withSystem("10.0.0.5:5432/shop", "1"), "db:5432/shop"), null);
  assertEquals(sameOriginOffline(withSystem("db:5432/shop", "1"), "db:5432/shop"), true);
  assertEquals(sameOriginOffline("db1:5432/shop", "db2:5432/shop"), false);
  assertEquals(sameOriginOffline(withSystem("db:5432/shop", "1"), "db:5432/other"), false);
});
