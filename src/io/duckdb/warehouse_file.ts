// Owns the warehouse DuckDB file in this process: opening it (waiting
// politely while another process holds its lock, new files with small blocks)
// and sharing one instance between its users, held only while something (a
// cycle, a query from the UI) uses it, so other programs can read it between
// cycles.

import { DuckDBInstance } from "@duckdb/node-api";
import { dirname } from "node:path";
import { classifyOpenError } from "../../core/classify_error.ts";
import { isLockError, lockHolder } from "../../core/error_rules.ts";
import { keepLeadingBom } from "./cells.ts";

import { Warehouse } from "./warehouse.ts";

/**
 * The block size of a new DuckDB file (an existing file keeps its own). DuckDB
 * gives every table at least one block of its own, and its primary key another:
 * with DuckDB's default of 256 KiB, 300 tables of 5 rows took 157 MiB; with
 * 64 KiB blocks they take 44 MiB, and a 1M-row table is as small as before
 * (16 KiB blocks would make that one about half again as large).
 */
const BLOCK_SIZE = 65_536;

export interface OpenOptions {
  readonly readOnly?: boolean;
  readonly lockWaitSeconds: number;
  readonly signal?: AbortSignal;
  /** Told once when the file is busy and we start waiting. */
  readonly onWait?: (message: string) => void;
  /** DuckDB's memory_limit ("512MB"); absent or "" for DuckDB's default. */
  readonly memoryLimit?: string;
}

/** DuckDB's allocator_flush_threshold: a first copy's peak memory is about 30 MB lower. */
const ALLOCATOR_FLUSH_THRESHOLD = "8MB";

/** Opens a DuckDB file, retrying while another process holds its lock. */
export async function openDuckDb(
  path: string,
  options: OpenOptions,
): Promise<DuckDBInstance> {
  // Column names and values read back (drift checks, verify, queries) keep a leading U+FEFF.
  keepLeadingBom();
  if (!options.readOnly) await Deno.mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + options.lockWaitSeconds * 1000;
  let delay = 100;
  let told = false;
  while (true) {
    try {
      return await DuckDBInstance.create(
        path,
        {
          ...(options.readOnly
            ? { access_mode: "READ_ONLY" }
            : { default_block_size: String(BLOCK_SIZE) }),
          ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
          // Memory freed after each query goes back to the system at once,
          // not after 128 MB have piled up (docs/performance.md).
          allocator_flush_threshold: ALLOCATOR_FLUSH_THRESHOLD,
        },
      );
    } catch (error) {
      if (!isLockError(error) || Date.now() >= deadline || options.signal?.aborted) {
        throw classifyOpenError(error, path);
      }
      if (!told) {
        options.onWait?.(
          `DuckDB file ${path} is locked by ${
            lockHolder(error)
          }; waiting up to ${options.lockWaitSeconds}s`,
        );
        told = true;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}

/**
 * The one DuckDB instance of a warehouse file in this process. Opened on the
 * first acquire and closed when the last user releases it, so the file is held
 * only while something (a cycle, a query from the UI) is using it, and two
 * instances of one file never coexist in a process (that silently loses data).
 */
export class WarehouseFile {
  readonly path: string;
  #instance: Promise<DuckDBInstance> | null = null;
  #users = 0;
  #kept = 0;

  readonly #memoryLimit: string;

  constructor(path: string, memoryLimit = "") {
    this.path = path;
    this.#memoryLimit = memoryLimit;
  }

  async acquire(options: OpenOptions): Promise<Warehouse> {
    this.#users += 1;
    try {
      if (!this.#instance) {
        const opening = openDuckDb(this.path, { memoryLimit: this.#memoryLimit, ...options });
        this.#instance = opening;
        opening.catch(() => {
          if (this.#instance === opening) this.#instance = null;
        });
      }
      const instance = await this.#instance;
      const connection = await instance.connect();
      await connection.run("SET TimeZone = 'UTC'");
      return new Warehouse(connection, () => this.#release());
    } catch (error) {
      this.#release();
      throw error;
    }
  }

  get inUse(): boolean {
    return this.#users > 0;
  }

  /**
   * Keeps the file open from its next opening until the returned function is
   * called, so that a cycle writing many tables opens (and checkpoints) it once.
   */
  keepOpen(): () => void {
    this.#kept += 1;
    return () => {
      this.#kept -= 1;
      this.#users += 1;
      this.#release();
    };
  }

  #release(): void {
    this.#users -= 1;
    if (this.#users > 0 || this.#kept > 0 || !this.#instance) return;
    const instance = this.#instance;
    this.#instance = null;
    instance.then((i) => i.closeSync()).catch(() => {});
  }
}

/** Opens a private handle on a file (commands that run alone: reset, replay). */
export async function openWarehouse(path: string, options: OpenOptions): Promise<Warehouse> {
  return await new WarehouseFile(path).acquire(options);
}
