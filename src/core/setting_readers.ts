// Owns how a setting's text is read and checked: the readers the settings
// table (core/settings.ts) names (text, names, whole numbers, decimals, one
// of a few words, sizes, ports), each adding a one-line problem that names
// the fix to a bad value. Pure.

/** Reads a setting's raw text; a bad value adds a one-line problem and returns a stand-in. */
export type ReadSetting<T> = (raw: string, name: string, problems: string[]) => T;

export interface Setting<T = unknown> {
  /** The command-line flag (without "--"), or null when there is none on purpose. */
  readonly flag: string | null;
  /** The value when neither the environment nor a flag sets it. */
  readonly default: string;
  /** How the README's table shows the default, when not as `default` in backquotes. */
  readonly shownDefault?: string;
  /** The value a flag takes in the usage text ("N", "PATH"...). */
  readonly value: string;
  /** One line for the usage text. */
  readonly help: string;
  /** Names a real PostgreSQL server: set explicitly, there is no demo fallback. */
  readonly connection?: boolean;
  readonly read: ReadSetting<T>;
}

/** The text as given, trimmed. */
export const text: ReadSetting<string> = (raw) => raw.trim();

/** The text exactly as given (a password may start or end with spaces). */
export const exact: ReadSetting<string> = (raw) => raw;

/** A name or path that must not be empty. */
export const name: ReadSetting<string> = (raw, setting, problems) => {
  const value = raw.trim();
  if (value === "") problems.push(`${setting} is empty (set ${setting} to a name)`);
  if (value.includes("\0")) {
    problems.push(`${setting} contains a NUL byte (set ${setting} to a plain name)`);
  }
  return value;
};

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max: number, example: string): ReadSetting<number> {
  return (raw, setting, problems) => {
    const trimmed = raw.trim();
    const value = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(
        `${setting}=${
          JSON.stringify(raw)
        } is not a whole number from ${min} to ${max} (e.g. ${setting}=${example})`,
      );
      return min;
    }
    return value;
  };
}

/** A decimal number of at least `min`. */
export function decimal(min: number, example: string): ReadSetting<number> {
  return (raw, setting, problems) => {
    const value = Number(raw.trim());
    if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(value) || value < min) {
      problems.push(
        `${setting}=${
          JSON.stringify(raw)
        } is not a number of at least ${min} (e.g. ${setting}=${example})`,
      );
      return min;
    }
    return value;
  };
}

/** One of a few words; `meaning` explains them in the problem ("text or json"). */
export function oneOf<const W extends string>(
  words: readonly W[],
  meaning: string,
): ReadSetting<W> {
  return (raw, setting, problems) => {
    const value = raw.trim();
    if (!(words as readonly string[]).includes(value)) {
      problems.push(`${setting}=${JSON.stringify(value)} must be ${meaning}`);
      return words[0]!;
    }
    return value as W;
  };
}

/** A DuckDB memory size ("512MB", "2GB"), or "" for DuckDB's default. */
export const memorySize: ReadSetting<string> = (raw, setting, problems) => {
  const value = raw.trim();
  if (value === "" || /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(value)) return value;
  problems.push(
    `${setting}=${JSON.stringify(raw)} is not a memory size (e.g. ${setting}=512MB)`,
  );
  return "";
};

const UNIT_BYTES: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A size such as 512MB or 1GiB, in bytes. */
export const byteSize: ReadSetting<number> = (raw, setting, problems) => {
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(raw.trim());
  if (!match) {
    problems.push(`${setting}=${JSON.stringify(raw)} is not a size (e.g. ${setting}=1GB)`);
    return 0;
  }
  return Math.round(Number(match[1]) * UNIT_BYTES[match[2]!.toLowerCase()]!);
};

/** A TCP port, or "" for none (the feature it enables stays off). */
export const optionalPort: ReadSetting<number | null> = (raw, setting, problems) => {
  const value = raw.trim();
  if (value === "") return null;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    problems.push(
      `${setting}=${
        JSON.stringify(raw)
      } is not a port from 1 to 65535 (e.g. ${setting}=9464, or leave it unset for none)`,
    );
    return null;
  }
  return Number(value);
};
