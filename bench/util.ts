/**
 * Shared helpers of the benchmark: temporary folders, clocks, medians and percentiles, and the
 * record values that the raw baselines write (the same size and shape as the log's own).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh folder on the machine's disk (not tmpfs here: /tmp is on /dev/vda), removed by `cleanup`. */
export async function tempFolder(label: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `changesources-bench-${label}-`))
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) }
}

export function nowNs(): bigint {
  return process.hrtime.bigint()
}

/** Microseconds elapsed since `start` (from nowNs). */
export function usSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** A key of the log's form and a value of the log's size (~150 bytes of JSON), for the raw baselines. */
export function rawKey(seq: number): string {
  return 'log!' + seq.toString(16).padStart(16, '0')
}

export function rawValue(seq: number): string {
  return JSON.stringify({
    seq,
    type: 'MasterClaimed',
    changesourceid: (seq % 1000) + 1,
    masterid: 7,
    timestamp: 1764170000000 + seq,
    version: 1,
    hash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  })
}

export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect !== undefined) {
    collect()
    collect()
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * An idle pause before each timed phase, raw baselines and ours alike. The work before a phase
 * (a warm-up, a phase of CPU only, an open) leaves V8's compiler and collector threads busy for a
 * while, and on two cores they slow the phase that follows: without the pause, the first ~2,000
 * raw puts after the 1,000 warm-up puts ran at 37–44 µs and the rest at 25–30; with it, all ran at
 * 25–30; the releases that follow 3,000 refused claims ran at 57 µs against 46 right after the
 * claims. With the pause, every phase measures the steady state.
 */
export const settle = (): Promise<void> => sleep(100)
