// Owns a TCP forwarder for end-to-end tests: the program connects to it instead
// of PostgreSQL, and a test stops it (every connection cut, new ones refused)
// to stage an outage, then starts it again on the same port.

export class TcpProxy {
  #listener: Deno.Listener | null = null;
  #conns = new Set<Deno.Conn>();

  constructor(readonly port: number, readonly target: { hostname: string; port: number }) {}

  start(): void {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    (async () => {
      for await (const client of listener) this.#forward(client);
    })().catch(() => {});
  }

  async #forward(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect(this.target);
    } catch {
      client.close();
      return;
    }
    this.#conns.add(client);
    this.#conns.add(server);
    const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
      try {
        await from.readable.pipeTo(to.writable);
      } catch {
        // Cut by stop() or by the other side.
      }
      for (const c of [from, to]) {
        if (this.#conns.delete(c)) {
          try {
            c.close();
          } catch {
            // Already closed.
          }
        }
      }
    };
    void pipe(client, server);
    void pipe(server, client);
  }

  /** Refuses new connections and cuts the open ones. */
  stop(): void {
    this.#listener?.close();
    this.#listener = null;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
    this.#conns.clear();
  }
}
