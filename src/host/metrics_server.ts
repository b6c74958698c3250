// Owns the HTTP side of monitoring: when METRICS_PORT is set, serves GET /metrics
// (the Prometheus text format) and GET /healthz (200 or 503 with a one-line
// reason) from a MetricsState the host feeds with every event it posts. A port
// that cannot be listened on is a setting to fix (METRICS_UNAVAILABLE, exit 2),
// found before any sync work starts.

import type { Config } from "../core/config.ts";
import { configError } from "../core/errors.ts";
import { MetricsState } from "../core/metrics_state.ts";
import type { WorkerEvent } from "./protocol.ts";

const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export class MetricsServer {
  readonly state: MetricsState;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #now: () => number;

  private constructor(
    state: MetricsState,
    server: Deno.HttpServer<Deno.NetAddr>,
    now: () => number,
  ) {
    this.state = state;
    this.#server = server;
    this.#now = now;
  }

  /**
   * Listens on config.metricsHost:metricsPort; throws METRICS_UNAVAILABLE when
   * it cannot (the port in use, an address this machine does not have).
   */
  static start(config: Config, now: () => number = Date.now): MetricsServer {
    const port = config.metricsPort ?? 0;
    const state = new MetricsState({ intervalSeconds: config.intervalSeconds, startedAt: now() });
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve(
        { hostname: config.metricsHost, port, onListen: () => {} },
        (request) => respond(request, state, now),
      );
    } catch (error) {
      throw listenError(error, config.metricsHost, port);
    }
    return new MetricsServer(state, server, now);
  }

  /** Where it listens, as a URL base ("http://127.0.0.1:9464"). */
  get url(): string {
    const { hostname, port } = this.#server.addr;
    return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }

  /** Folds an event the host posts (already scrubbed) into the metrics. */
  observe(event: WorkerEvent): void {
    switch (event.type) {
      case "query_result":
      case "query_error":
      case "seed_result":
      case "fatal":
        return;
      default:
        this.state.observe(event, this.#now());
    }
  }

  async close(): Promise<void> {
    await this.#server.shutdown().catch(() => {});
  }
}

/**
 * Throws METRICS_UNAVAILABLE now when config's metrics port cannot be listened
 * on: the terminal UI checks before it opens (its worker listens for real).
 */
export function checkMetricsPort(config: Config): void {
  if (config.metricsPort === null) return;
  try {
    Deno.listen({ hostname: config.metricsHost, port: config.metricsPort }).close();
  } catch (error) {
    throw listenError(error, config.metricsHost, config.metricsPort);
  }
}

function respond(request: Request, state: MetricsState, now: () => number): Response {
  const path = new URL(request.url).pathname;
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("only GET is served\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (path === "/metrics") {
    return new Response(state.render(now(), Deno.memoryUsage().rss), {
      headers: { "content-type": METRICS_CONTENT_TYPE },
    });
  }
  if (path === "/healthz") {
    const health = state.health(now());
    return new Response(`${health.reason}\n`, {
      status: health.ok ? 200 : 503,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response("not found: GET /metrics or /healthz\n", { status: 404 });
}

function listenError(error: unknown, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return configError(
      "METRICS_UNAVAILABLE",
      `Cannot serve metrics on ${where}: the port is in use (set METRICS_PORT to a free port, or stop the program using ${port})`,
      error,
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return configError(
      "METRICS_UNAVAILABLE",
      `Cannot serve metrics on ${where}: not permitted (set METRICS_PORT to a port above 1023)`,
      error,
    );
  }
  return configError(
    "METRICS_UNAVAILABLE",
    `Cannot serve metrics on ${where}: ${
      error instanceof Error ? error.message : String(error)
    } (set METRICS_HOST to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0)`,
    error,
  );
}
