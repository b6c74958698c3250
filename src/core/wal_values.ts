// Owns turning a column value as the replication stream carries it (the type's
// text output, under the sync's session settings) into the CSV field the first
// copy's COPY would have written for it (ColumnMapping.pgSelect), so both
// change sources feed the batch sink the same text: bytea as bare hex, an
// interval as "<m> months <d> days <us> microseconds", an array as the JSON
// array of its elements' text; an inet (and an inet[]'s elements) with its
// mask; everything else as it is.

import type { ColumnMapping } from "./type_map.ts";

/** The conversion a column's stream values need. */
export type WalForm = "text" | "bytea" | "interval" | "array" | "inet" | "inet_array";

export function walFormOf(mapping: ColumnMapping): WalForm {
  if (mapping.streamForm === "inet") {
    return mapping.duckType.endsWith("[]") ? "inet_array" : "inet";
  }
  if (mapping.duckType === "BLOB") return "bytea";
  if (mapping.duckType === "INTERVAL") return "interval";
  if (mapping.duckType.endsWith("[]")) return "array";
  return "text";
}

/** The COPY text of a non-NULL stream value. */
export function copyTextOf(form: WalForm, value: string, pgType = ""): string {
  switch (form) {
    case "text":
      return value;
    case "bytea":
      return value.startsWith("\\x") ? value.slice(2) : value;
    case "interval":
      return intervalParts(value);
    case "array":
      return JSON.stringify(parseArray(value, pgType.startsWith("box") ? ";" : ","));
    case "inet":
      return inetWithMask(value);
    case "inet_array":
      return JSON.stringify(
        parseArray(value).map(function masked(e): ArrayValue {
          return e === null ? null : typeof e === "string" ? inetWithMask(e) : e.map(masked);
        }),
      );
  }
}

/**
 * inet's output as text(inet) writes it: a host address's full mask, which the
 * output leaves out, spelled (10.0.0.1/32, ::1/128).
 */
export function inetWithMask(value: string): string {
  if (value.includes("/")) return value;
  return `${value}/${value.includes(":") ? 128 : 32}`;
}

const UNITS: Record<string, "months" | "days"> = {
  year: "months",
  years: "months",
  mon: "months",
  mons: "months",
  day: "days",
  days: "days",
};

/**
 * An interval in IntervalStyle 'postgres' ("1 year 2 mons -3 days +04:05:06.5")
 * as "<months> months <days> days <microseconds> microseconds".
 */
export function intervalParts(text: string): string {
  if (text === "infinity" || text === "-infinity") return text;
  let months = 0n;
  let days = 0n;
  let micros = 0n;
  const tokens = text.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const time = /^([+-])?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(token);
    if (time) {
      const us = BigInt(time[2]!) * 3_600_000_000n + BigInt(time[3]!) * 60_000_000n +
        BigInt(time[4]!) * 1_000_000n + BigInt((time[5] ?? "").padEnd(6, "0"));
      micros += time[1] === "-" ? -us : us;
      continue;
    }
    const unit = UNITS[tokens[i + 1] ?? ""];
    if (/^[+-]?\d+$/.test(token) && unit) {
      const n = BigInt(token);
      if (unit === "months") months += tokens[i + 1]!.startsWith("y") ? n * 12n : n;
      else days += n;
      i++;
      continue;
    }
    throw new RangeError(`Cannot read interval "${text}"`);
  }
  return `${months} months ${days} days ${micros} microseconds`;
}

type ArrayValue = string | null | ArrayValue[];

/**
 * Postgres' array text ("{a,\"b c\",NULL}", nested braces for more
 * dimensions, an optional "[1:2]=" bounds prefix) as nested arrays of element
 * text, NULL as null.
 */
export function parseArray(text: string, delimiter = ","): ArrayValue[] {
  let i = 0;
  if (text[0] === "[") {
    i = text.indexOf("=") + 1;
    if (i === 0) throw new RangeError(`Cannot read array "${text}"`);
  }
  const fail = (): never => {
    throw new RangeError(`Cannot read array "${text}"`);
  };
  const parseLevel = (): ArrayValue[] => {
    if (text[i] !== "{") fail();
    i++;
    const out: ArrayValue[] = [];
    if (text[i] === "}") {
      i++;
      return out;
    }
    while (i < text.length) {
      if (text[i] === "{") out.push(parseLevel());
      else if (text[i] === '"') {
        i++;
        let s = "";
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\") i++;
          s += text[i++];
        }
        if (text[i] !== '"') fail();
        i++;
        out.push(s);
      } else {
        let s = "";
        while (i < text.length && text[i] !== delimiter && text[i] !== "}") {
          if (text[i] === "\\") i++;
          s += text[i++];
        }
        out.push(s === "NULL" ? null : s);
      }
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return out;
      }
      fail();
    }
    return fail();
  };
  const result = parseLevel();
  if (i !== text.length) fail();
  return result;
}

/** One CSV field as COPY ... (FORMAT csv) writes it: NULL empty, text quoted. */
export function csvField(value: string | null): string {
  return value === null ? "" : `"${value.replaceAll('"', '""')}"`;
}
