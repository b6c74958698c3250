// Owns the bench's targets (docs/performance.md) and checking the measured
// figures of one run against them: each line says the figure, the same-run
// baseline it is a ratio to, the target, and whether it is met.

import { round } from "./measure.ts";

/** The figures measured at one table size (seconds, MB, ms; medians of the run's repetitions). */
export interface SizeFigures {
  readonly rows: number;
  readonly copySeconds: number;
  readonly handmadeSeconds: number;
  readonly firstCopySeconds: number;
  readonly firstCopyNoParquetSeconds: number;
  readonly firstCopyTwoConnectionsSeconds: number;
  readonly firstCopyPeakMb: number;
  readonly verifySeconds: number;
  readonly verifyPeakMb: number;
  readonly updatedCycleMs: number;
  readonly idleCycleMs: number;
  readonly loopPeakMb: number;
}

export interface Verdict {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  readonly met: boolean;
}

const x = (v: number) => `${round(v, 2)}x`;

/** Targets at one size. */
export function sizeVerdicts(f: SizeFigures): Verdict[] {
  const at = `${f.rows.toLocaleString("en-US")} rows`;
  const out: Verdict[] = [
    {
      figure: `first copy / hand-made pipeline, ${at}`,
      measured: `${round(f.firstCopySeconds, 2)} s / ${round(f.handmadeSeconds, 2)} s = ${
        x(f.firstCopySeconds / f.handmadeSeconds)
      }`,
      target: "<= 0.8x",
      met: f.firstCopySeconds / f.handmadeSeconds <= 0.8,
    },
    {
      figure: `first copy / COPY baseline, ${at}`,
      measured: `${round(f.firstCopySeconds, 2)} s / ${round(f.copySeconds, 2)} s = ${
        x(f.firstCopySeconds / f.copySeconds)
      }`,
      target: "<= 2.5x (stretch 2.2x)",
      met: f.firstCopySeconds / f.copySeconds <= 2.5,
    },
    {
      figure: `first copy, BOOTSTRAP_PARQUET=off / COPY, ${at}`,
      measured: `${round(f.firstCopyNoParquetSeconds, 2)} s = ${
        x(f.firstCopyNoParquetSeconds / f.copySeconds)
      }`,
      target: "<= 2.0x",
      met: f.firstCopyNoParquetSeconds / f.copySeconds <= 2.0,
    },
    {
      figure: `first copy, 2 connections / 1 connection, ${at}`,
      measured: `${round(f.firstCopyTwoConnectionsSeconds, 2)} s = ${
        x(f.firstCopyTwoConnectionsSeconds / f.firstCopySeconds)
      }`,
      target: "reported (2 cores shared)",
      met: true,
    },
    {
      figure: `peak RSS: first copy / loop / verify, ${at}`,
      measured: `${round(f.firstCopyPeakMb, 0)} / ${round(f.loopPeakMb, 0)} / ${
        round(f.verifyPeakMb, 0)
      } MB`,
      target: "< 500 MB each",
      met: Math.max(f.firstCopyPeakMb, f.loopPeakMb, f.verifyPeakMb) < 500,
    },
    {
      figure: `verify of an equal copy / COPY, ${at}`,
      measured: `${round(f.verifySeconds, 2)} s = ${x(f.verifySeconds / f.copySeconds)}`,
      target: "<= 3.0x",
      met: f.verifySeconds / f.copySeconds <= 3,
    },
    {
      figure: `cycle after 50,000 updated rows (running loop), ${at}`,
      measured: `${round(f.updatedCycleMs, 0)} ms`,
      target: "<= 1000 ms",
      met: f.updatedCycleMs <= 1000,
    },
    {
      figure: `idle cycle (running loop), ${at}`,
      measured: `${round(f.idleCycleMs, 1)} ms`,
      target: "about 1 ms (< 10)",
      met: f.idleCycleMs < 10,
    },
  ];
  return out;
}

/** Memory across sizes: the largest size's peaks against the smallest's. */
export function flatnessVerdicts(sizes: readonly SizeFigures[]): Verdict[] {
  if (sizes.length < 2) return [];
  const small = sizes[0]!;
  const big = sizes[sizes.length - 1]!;
  const ratio = (a: number, b: number) => a / b;
  const line = (name: string, a: number, b: number): Verdict => ({
    figure: `peak RSS of ${name}, ${big.rows.toLocaleString("en-US")} / ${
      small.rows.toLocaleString("en-US")
    } rows`,
    measured: `${round(a, 0)} / ${round(b, 0)} MB = ${x(ratio(a, b))}`,
    target: "<= 1.15x",
    met: ratio(a, b) <= 1.15,
  });
  return [
    line("a first copy", big.firstCopyPeakMb, small.firstCopyPeakMb),
    line("incremental cycles (loop)", big.loopPeakMb, small.loopPeakMb),
    line("verify", big.verifyPeakMb, small.verifyPeakMb),
  ];
}

export function printVerdicts(verdicts: readonly Verdict[]): void {
  const w1 = Math.max(...verdicts.map((v) => v.figure.length));
  const w2 = Math.max(...verdicts.map((v) => v.measured.length));
  const w3 = Math.max(...verdicts.map((v) => v.target.length));
  for (const v of verdicts) {
    console.log(
      `${v.figure.padEnd(w1)}  ${v.measured.padEnd(w2)}  target ${v.target.padEnd(w3)}  ${
        v.met ? "met" : "NOT MET"
      }`,
    );
  }
}
