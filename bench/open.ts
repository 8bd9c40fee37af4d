/**
 * Cold starts: each in a fresh `node --expose-gc` process (open-child.ts), so that nothing of the
 * run that built the log (JIT, caches, heap) helps the open.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MemoryLevel } from 'memory-level'
import { ChangeSources, InvalidArgumentError } from '../src/index.js'
import { median } from './util.js'

const child = fileURLToPath(new URL('./open-child.js', import.meta.url))

export interface OpenRun {
  openMs: number
  head: number
  changeSources: number
  bytesPerChangeSource: number
  peakHeap: number
  peakAboveBefore: number
  heapBefore: number
  heapAfter: number
}

function runChild(args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', child, ...args], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`open-child failed: ${stderr || error.message}`))
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!))
    })
  })
}

export async function coldOpens(location: string, runs: number, options?: Record<string, unknown>): Promise<OpenRun & { runs: number[] }> {
  const results: OpenRun[] = []
  for (let run = 0; run < runs; run++) {
    results.push((await runChild(options === undefined ? [location, 'open'] : [location, 'open', JSON.stringify(options)])) as OpenRun)
  }
  const m = median(results.map((r) => r.openMs))
  const best = results.reduce((a, b) => (Math.abs(b.openMs - m) < Math.abs(a.openMs - m) ? b : a))
  return {
    ...best,
    openMs: m,
    bytesPerChangeSource: median(results.map((r) => r.bytesPerChangeSource)),
    peakAboveBefore: median(results.map((r) => r.peakAboveBefore)),
    peakHeap: median(results.map((r) => r.peakHeap)),
    runs: results.map((r) => r.openMs),
  }
}

export async function coldIteratorReads(location: string, runs: number): Promise<{ records: number; ms: number; perSecond: number; runs: number[] }> {
  const results: Array<{ records: number; ms: number; perSecond: number }> = []
  for (let run = 0; run < runs; run++) results.push((await runChild([location, 'iterator'])) as { records: number; ms: number; perSecond: number })
  const ms = median(results.map((r) => r.ms))
  return { records: results[0]!.records, ms, perSecond: (results[0]!.records / ms) * 1000, runs: results.map((r) => r.ms) }
}

/** Whether `ChangeSources.open` knows the `snapshotEvery` option: it refuses a bad value only if it does. */
export async function snapshotsSupported(): Promise<boolean> {
  try {
    const cs = await ChangeSources.open({ db: new MemoryLevel(), snapshotEvery: -1 } as Parameters<typeof ChangeSources.open>[0])
    await cs.close()
    return false
  } catch (error) {
    return error instanceof InvalidArgumentError && String(error.message).includes('snapshotEvery')
  }
}

/**
 * Leaves a snapshot at the head of the log at `location`: opens it with `snapshotEvery: 1` and
 * writes one claim-release cycle, which makes a snapshot due; close() waits until it is stored.
 */
export async function takeSnapshot(location: string, id: number): Promise<number> {
  const cs = await ChangeSources.open({ location, sync: false, snapshotEvery: 1 } as Parameters<typeof ChangeSources.open>[0])
  try {
    await cs.setChangeSourceMaster(id, 7)
    await cs.setChangeSourceMaster(id, null)
    return cs.head
  } finally {
    await cs.close()
  }
}
