/**
 * Scale and reads: a log of N change sources (built by build-log.ts), opened through the public
 * API; then the same sequential claim-release cycle as in writes.ts, and the queries, per call.
 */
import { ChangeSources } from '../src/index.js'
import { buildLog, MASTER_OF_ONE_PERCENT, MASTER_OF_TEN, type BuiltLog } from './build-log.js'
import { gc, median, nowNs, quantile, settle, sleep, usSince } from './util.js'

export interface CycleFigure {
  /** Microseconds per record written (a cycle writes 2). */
  usPerWrite: number
  /** CPU microseconds (user+system, all threads) per record written. */
  cpuUsPerWrite: number
  p50: number
  p99: number
  runs: number[]
}

export interface ReadFigure {
  query: string
  /** Change sources in the answer. */
  answer: number
  usPerCall: number
  callsPerSecond: number
  /** Nanoseconds per change source returned: flat when a query costs in proportion to its answer. */
  nsPerItem: number
}

export async function buildAndOpen(location: string, n: number): Promise<{ log: BuiltLog; cs: ChangeSources; buildMs: number; openMs: number }> {
  const started = nowNs()
  const log = await buildLog(location, n)
  const buildMs = usSince(started) / 1000
  const opening = nowNs()
  const cs = await ChangeSources.open({ location, sync: false })
  return { log, cs, buildMs, openMs: usSince(opening) / 1000 }
}

/**
 * `cycles` claim-release cycles (relaxed mode: without an fsync per write, so that what grows with
 * N, if anything, is not hidden under the disk's latency), on change sources nobody holds.
 */
export async function cyclesAtScale(cs: ChangeSources, n: number, cycles: number, runs: number): Promise<CycleFigure> {
  const idOf = scatteredIds(n)
  for (let index = 0; index < 200; index++) {
    await cs.setChangeSourceMaster(idOf(index), 5)
    await cs.setChangeSourceMaster(idOf(index), null)
  }
  const perWrite: number[] = []
  const cpu: number[] = []
  let last = { p50: 0, p99: 0 }
  const figures: Array<{ us: number; cpu: number; p50: number; p99: number }> = []
  for (let run = 0; run < runs; run++) {
    await settle()
    const latencies: number[] = []
    const cpuStart = process.cpuUsage()
    const start = nowNs()
    for (let index = 0; index < cycles; index++) {
      const id = idOf(index + run * cycles)
      let t = nowNs()
      await cs.setChangeSourceMaster(id, 5)
      latencies.push(usSince(t))
      t = nowNs()
      await cs.setChangeSourceMaster(id, null)
      latencies.push(usSince(t))
    }
    const us = usSince(start) / (2 * cycles)
    const used = process.cpuUsage(cpuStart)
    const cpuUs = (used.user + used.system) / (2 * cycles)
    perWrite.push(us)
    cpu.push(cpuUs)
    figures.push({ us, cpu: cpuUs, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) })
  }
  const m = median(perWrite)
  last = figures.reduce((best, figure) => (Math.abs(figure.us - m) < Math.abs(best.us - m) ? figure : best), figures[0]!)
  return { usPerWrite: m, cpuUsPerWrite: median(cpu), p50: last.p50, p99: last.p99, runs: perWrite }
}

/** Ids ≡ 50 (mod 100) below n, scattered over the range: neither master 1's ten nor master 2's hundredths. */
function scatteredIds(n: number): (index: number) => number {
  const pool = Math.max(1, Math.floor(n / 100))
  return (index) => ((index * 7919) % pool) * 100 + 50
}

/**
 * The mean cost per write of `cycles` claim-release cycles (as in cyclesAtScale) with the default
 * `snapshotEvery`, so that the snapshots written in the background are paid for in the figure (the
 * median above hides them: they run in slices between calls). In steady state: 10,000 records of
 * the same cycles first, which build the pages that a lazy open left unparsed and make a snapshot
 * due, and a second for it to be written. At 1,000 the cycles touch one page; at 1,000,000 they are
 * scattered over all of them, the worst case for a snapshot.
 */
export async function meanCostWithSnapshots(location: string, n: number, cycles: number): Promise<{ usPerWrite: number; cpuUsPerWrite: number; records: number }> {
  const idOf = scatteredIds(n)
  // What the sections before left is collected now, not by whichever run happens to fill the heap:
  // before this row the bench's heap held 886 MiB, of which 150 were live after a full collection.
  gc()
  const cs = await ChangeSources.open({ location, sync: false })
  const cycle = async (index: number) => {
    await cs.setChangeSourceMaster(idOf(index), 6)
    await cs.setChangeSourceMaster(idOf(index), null)
  }
  try {
    for (let index = 0; index < 5_000; index++) await cycle(index)
    await sleep(1_000)
    const cpuStart = process.cpuUsage()
    const start = nowNs()
    for (let index = 0; index < cycles; index++) await cycle(index + 5_000)
    const us = usSince(start)
    const used = process.cpuUsage(cpuStart)
    return { usPerWrite: us / (2 * cycles), cpuUsPerWrite: (used.user + used.system) / (2 * cycles), records: 2 * cycles }
  } finally {
    await cs.close()
  }
}

async function timeQuery(query: string, call: () => Promise<unknown[]>, minMs: number): Promise<ReadFigure> {
  const answer = (await call()).length
  for (let warm = 0; warm < 3; warm++) await call()
  let calls = 0
  const start = nowNs()
  let elapsed = 0
  do {
    await call()
    calls += 1
    elapsed = usSince(start)
  } while (elapsed < minMs * 1000 || calls < 5)
  const usPerCall = elapsed / calls
  return { query, answer, usPerCall, callsPerSecond: 1e6 / usPerCall, nsPerItem: answer === 0 ? NaN : (usPerCall * 1000) / answer }
}

export async function readsAtScale(cs: ChangeSources, n: number, quick: boolean): Promise<ReadFigure[]> {
  const figures: ReadFigure[] = []
  // getChangeSource: awaited one after another, ids spread over the whole range.
  const calls = quick ? 200_000 : 1_000_000
  let found = 0
  for (let index = 0; index < 10_000; index++) if (await cs.getChangeSource((index % n) + 1)) found++
  const samples: number[] = []
  for (let run = 0; run < 3; run++) {
    const start = nowNs()
    for (let index = 0; index < calls; index++) if ((await cs.getChangeSource(((index * 7919) % n) + 1)) !== null) found++
    samples.push(usSince(start) / calls)
  }
  if (found === 0) throw new Error('getChangeSource found nothing')
  const usPerCall = median(samples)
  figures.push({ query: 'getChangeSource(id)', answer: 1, usPerCall, callsPerSecond: 1e6 / usPerCall, nsPerItem: usPerCall * 1000 })
  const minMs = quick ? 100 : 300
  const filters: Array<[string, Parameters<ChangeSources['getChangeSources']>[0]]> = [
    ['getChangeSources()', undefined],
    ['getChangeSources({active:true})', { active: true }],
    ['getChangeSources({active:false})', { active: false }],
    [`getChangeSources({masterid}) holding 10`, { masterid: MASTER_OF_TEN }],
    [`getChangeSources({masterid}) holding 1%`, { masterid: MASTER_OF_ONE_PERCENT }],
    [`getChangeSources({masterid, active:true}) holding 10`, { masterid: MASTER_OF_TEN, active: true }],
    [`getChangeSources({masterid, active:false})`, { masterid: MASTER_OF_TEN, active: false }],
  ]
  for (const [query, filter] of filters) figures.push(await timeQuery(query, () => cs.getChangeSources(filter), minMs))
  return figures
}
