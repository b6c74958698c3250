// Owns turning DuckDB result values into exact cells for `query` and the Query
// pane: plain data (null, boolean, number, string, arrays, objects) that
// crosses the worker boundary unchanged and that query_result.ts prints alike
// in every format. @duckdb/node-api's own JSON converter is kept where it is
// exact (big integers and decimals as text, lists, structs, maps) and replaced
// where it is not: it prints an infinite DATE as "5881580-07-11", 1 BC as year
// "0000" without an era, a REAL through its double, a blob's backslash
// unescaped, and an interval as parts. It also decodes every string with a
// TextDecoder that drops a leading U+FEFF: keepLeadingBom() fixes that.

import {
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBIntervalValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBValueConverter,
  type Json,
  JsonDuckDBValueConverter,
} from "@duckdb/node-api";
import stringDecoding from "@duckdb/node-api/lib/vectors/dataAccessors.js";
import {
  blobText,
  dateText,
  floatCell,
  intervalText,
  timestampText,
} from "../../core/value_text.ts";

/** One value of a query result, as sent to the UI and printed. */
export type Cell = Json;

/** A @duckdb/node-api converter yielding exact cells (see the module comment). */
export const exactCell: DuckDBValueConverter<Cell> = (value, type, converter) => {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.DATE:
      return dateText((value as DuckDBDateValue).days);
    case DuckDBTypeId.TIMESTAMP:
      return timestampText((value as DuckDBTimestampValue).micros, "us", false);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return timestampText((value as DuckDBTimestampTZValue).micros, "us", true);
    case DuckDBTypeId.TIMESTAMP_S:
      return timestampText((value as DuckDBTimestampSecondsValue).seconds, "s", false);
    case DuckDBTypeId.TIMESTAMP_MS:
      return timestampText((value as DuckDBTimestampMillisecondsValue).millis, "ms", false);
    case DuckDBTypeId.TIMESTAMP_NS:
      return timestampText((value as DuckDBTimestampNanosecondsValue).nanos, "ns", false);
    case DuckDBTypeId.INTERVAL: {
      const v = value as DuckDBIntervalValue;
      return intervalText(v.months, v.days, v.micros);
    }
    case DuckDBTypeId.BLOB:
      return blobText((value as DuckDBBlobValue).bytes);
    case DuckDBTypeId.FLOAT:
      return floatCell(value as number, true);
    case DuckDBTypeId.DOUBLE:
      return floatCell(value as number, false);
    default:
      return JsonDuckDBValueConverter(value, type, converter);
  }
};

const wholeStrings = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Makes @duckdb/node-api decode strings with a TextDecoder that keeps a
 * leading U+FEFF (its own, made with the defaults, drops it from every string
 * that starts with one: a value, a column name). Idempotent; its effect is
 * checked by the integration tests, so a library update that moves the
 * decoder shows up there.
 */
export function keepLeadingBom(): void {
  const accessors = stringDecoding as unknown as { textDecoder?: TextDecoder };
  if (accessors.textDecoder !== wholeStrings) accessors.textDecoder = wholeStrings;
}
