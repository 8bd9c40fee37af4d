/**
 * Section 8 of `npm run bench`: the log on PostgreSQL, each figure a ratio to raw `pg` on the same
 * throwaway server in the same run (docs/benchmarks.md, "PostgreSQL"). Returns the table's rows
 * and the raw figures for --json.
 */
import type { Rate } from './baselines.js'
import { inPairs, medianRun, pairedRatio, ratiosOf } from './paired.js'
import { rawMultiRowInserts, rawSingleInserts } from './postgres-baselines.js'
import { clusterRun, latencyRun, latencySummary, type ClusterFigure, type ClusterKind, type LatencyFigure } from './postgres-processes.js'
import { benchPostgres } from './postgres-server.js'
import { postgresConcurrent, postgresSequential, registerAll, withPostgresInstance } from './postgres-writes.js'
import { median, nowNs, usSince } from './util.js'

export interface SectionRow {
  section: string
  what: string
  figure: number
  unit: string
  baseline?: string
  ratio?: number
  target?: string
  met?: boolean
  note?: string
}

const SECTION = '8 PostgreSQL'
const PROCESSES = 4
const IN_FLIGHT_PER_PROCESS = 16
const IN_FLIGHT = 64

export async function postgresSection(quick: boolean, log: (message: string) => void): Promise<{ rows: SectionRow[]; raw: Record<string, unknown> }> {
  const rows: SectionRow[] = []
  const raw: Record<string, unknown> = {}
  const add = (row: Omit<SectionRow, 'section'>) => rows.push({ section: SECTION, ...row })
  let server
  try {
    log('PostgreSQL: starting a throwaway server …')
    server = await benchPostgres()
  } catch (error) {
    add({ what: 'not measured: no PostgreSQL server', figure: NaN, unit: '', note: (error as Error).message.split('\n')[0] })
    return { rows, raw }
  }
  const { url } = server
  raw.server = server.description
  try {
    const runs = quick ? 3 : 5
    const sequentialCalls = quick ? 400 : 2000
    log('PostgreSQL: durable sequential claims and releases, paired with raw single-row INSERTs …')
    const sequential = await inPairs(runs, () => rawSingleInserts(url, sequentialCalls), () => postgresSequential(url, sequentialCalls))
    const perCaller = quick ? 30 : 150
    log(`PostgreSQL: ${IN_FLIGHT} calls in flight, paired with raw ${IN_FLIGHT}-row INSERTs …`)
    const concurrent = await inPairs(runs, () => rawMultiRowInserts(url, IN_FLIGHT, perCaller), () => postgresConcurrent(url, IN_FLIGHT, perCaller))

    const single = medianRun(sequential.raw, (rate) => rate.perSecond)
    const multi = medianRun(concurrent.raw, (rate) => rate.perSecond)
    raw.postgres = { sequential, concurrent }
    add({ what: 'raw single-row INSERT, committed per statement', figure: single.perSecond, unit: 'rec/s', note: latencyNote(single, 'per statement') })
    add({ what: `raw ${IN_FLIGHT}-row INSERT per statement`, figure: multi.perSecond, unit: 'rec/s', note: latencyNote(multi, 'per statement') })

    const ours = medianRun(sequential.ours, (figure) => figure.recordsPerSecond)
    const sequentialRatio = pairedRatio(sequential, (figure) => figure.recordsPerSecond)
    add({
      what: 'durable sequential claims and releases, one process',
      figure: ours.recordsPerSecond,
      unit: 'rec/s',
      baseline: 'raw single-row INSERT',
      ratio: sequentialRatio,
      target: '≥ 0.7',
      met: sequentialRatio >= 0.7,
      note: `p50 ${ms(ours.p50)}, p99 ${ms(ours.p99)} per call; ratios ${spread(ratiosOf(sequential, (figure) => figure.recordsPerSecond))}`,
    })
    const inFlight = medianRun(concurrent.ours, (figure) => figure.recordsPerSecond)
    const concurrentRatio = pairedRatio(concurrent, (figure) => figure.recordsPerSecond)
    add({
      what: `${IN_FLIGHT} calls in flight, one process`,
      figure: inFlight.recordsPerSecond,
      unit: 'rec/s',
      baseline: `raw ${IN_FLIGHT}-row INSERT`,
      ratio: concurrentRatio,
      target: '≥ 0.5',
      met: concurrentRatio >= 0.5,
      note: `p50 ${ms(inFlight.p50)}, p99 ${ms(inFlight.p99)} per call; ratios ${spread(ratiosOf(concurrent, (figure) => figure.recordsPerSecond))}`,
    })

    const clusterMs = quick ? 1000 : 2000
    // Each run's processes are new: measured cold, their JIT compiled during the window (docs/benchmarks.md).
    const clusterWarmMs = quick ? 500 : 2000
    const clusterRuns = quick ? 1 : 3
    log(`PostgreSQL: ${PROCESSES} processes × ${IN_FLIGHT_PER_PROCESS} in flight, ours and raw racing at the head, ${clusterRuns} × ${clusterMs} ms each after ${clusterWarmMs} ms of warming up …`)
    const cluster: Record<ClusterKind, ClusterFigure[]> = { ours: [], 'raw-race': [], 'raw-free': [] }
    for (let run = 0; run < clusterRuns; run++) {
      const order: ClusterKind[] = run % 2 === 0 ? ['raw-race', 'ours', 'raw-free'] : ['ours', 'raw-race', 'raw-free']
      for (const kind of order) cluster[kind].push(await clusterRun(url, kind, PROCESSES, IN_FLIGHT_PER_PROCESS, clusterWarmMs, clusterMs))
    }
    raw.postgresCluster = cluster
    const oursCluster = medianRun(cluster.ours, (figure) => figure.total)
    const race = medianRun(cluster['raw-race'], (figure) => figure.total)
    const free = medianRun(cluster['raw-free'], (figure) => figure.total)
    const clusterRatio = oursCluster.total / ours.recordsPerSecond
    const vsRace = median(cluster.ours.map((figure, run) => figure.total / cluster['raw-race'][run]!.total))
    add({
      what: `${PROCESSES} processes × ${IN_FLIGHT_PER_PROCESS} in flight, each on its own change sources: cluster total`,
      figure: oursCluster.total,
      unit: 'rec/s',
      baseline: 'durable sequential (ours, above)',
      ratio: clusterRatio,
      target: '≥ 3',
      met: clusterRatio >= 3,
      note:
        `lost races ${percents(cluster.ours.map((figure) => figure.lostShare))} of appends; calls refused with APPEND_CONFLICT ${cluster.ours.map((figure) => figure.conflicts).join(', ')} per run; ` +
        `per process ${oursCluster.perProcess.map((rate) => rate.toFixed(0)).join(', ')} rec/s; p50 ${ms(oursCluster.p50!)}, p99 ${ms(oursCluster.p99!)} per call; ` +
        `${vsRace.toFixed(2)} × raw racing (median of runs); totals ${cluster.ours.map((figure) => figure.total.toFixed(0)).join(', ')}`,
    })
    add({
      what: `raw: ${PROCESSES} processes racing at the head, ${IN_FLIGHT_PER_PROCESS}-row INSERTs`,
      figure: race.total,
      unit: 'rec/s',
      note: `lost races ${percents(cluster['raw-race'].map((figure) => figure.lostShare))}; per process ${race.perProcess.map((rate) => rate.toFixed(0)).join(', ')}; totals ${cluster['raw-race'].map((figure) => figure.total.toFixed(0)).join(', ')}`,
    })
    add({
      what: `raw: ${PROCESSES} processes, ${IN_FLIGHT_PER_PROCESS}-row INSERTs, keys from an identity column (no head)`,
      figure: free.total,
      unit: 'rec/s',
      note: `per process ${free.perProcess.map((rate) => rate.toFixed(0)).join(', ')}; totals ${cluster['raw-free'].map((figure) => figure.total.toFixed(0)).join(', ')}`,
    })

    const messages = quick ? 150 : 300
    const latencyRuns = quick ? 1 : 2
    log(`PostgreSQL: from one process's append to another's changes$, and raw NOTIFY, ${latencyRuns} × ${messages} each …`)
    const latency: Record<'ours' | 'raw', LatencyFigure[]> = { ours: [], raw: [] }
    for (let run = 0; run < latencyRuns; run++) {
      for (const kind of run % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const)) latency[kind].push(await latencyRun(url, kind, messages, 5))
    }
    raw.postgresLatency = latency
    const pooled = (kind: 'ours' | 'raw', key: 'fromAcknowledged' | 'fromCall') => latencySummary(latency[kind].flatMap((figure) => figure[key]))
    const oursAck = pooled('ours', 'fromAcknowledged')
    const oursCall = pooled('ours', 'fromCall')
    const rawAck = pooled('raw', 'fromAcknowledged')
    const rawCall = pooled('raw', 'fromCall')
    const missing = (kind: 'ours' | 'raw') => latency[kind].reduce((sum, figure) => sum + figure.missing, 0)
    const samples = `${latencyRuns * messages} appends, one every ~5 ms`
    add({
      what: "append acknowledged in one process → another process's changes$, p50",
      figure: oursAck.p50 / 1000,
      unit: 'ms',
      target: '≤ 2 ms',
      met: oursAck.p50 <= 2000,
      note: `${samples}; from the call: p50 ${ms(oursCall.p50)}, p99 ${ms(oursCall.p99)}; never received: ${missing('ours')}`,
    })
    add({ what: "append acknowledged in one process → another process's changes$, p99", figure: oursAck.p99 / 1000, unit: 'ms', target: '≤ 20 ms', met: oursAck.p99 <= 20_000, note: `max ${ms(oursAck.max)}` })
    add({
      what: 'raw: pg_notify acknowledged in one process → LISTEN in another',
      figure: rawAck.p50 / 1000,
      unit: 'ms (p50)',
      note: `p99 ${ms(rawAck.p99)}, max ${ms(rawAck.max)}; from the call: p50 ${ms(rawCall.p50)}, p99 ${ms(rawCall.p99)}; never received: ${missing('raw')}`,
    })

    log('PostgreSQL: getChangeSource on 10,000 change sources …')
    const reads = await getChangeSourceRate(url, 10_000, quick ? 200_000 : 1_000_000)
    raw.postgresGetChangeSource = reads
    add({ what: 'getChangeSource(id) at 10,000 change sources', figure: reads.callsPerSecond, unit: 'calls/s', target: '≥ 1,000,000', met: reads.callsPerSecond >= 1_000_000, note: 'answered from the projection, no query to the server' })
  } finally {
    await server.close()
  }
  return { rows, raw }
}

/** getChangeSource awaited one after another over ids spread through the range, as section 4 measures it; median of 3. */
async function getChangeSourceRate(url: string, n: number, calls: number): Promise<{ callsPerSecond: number; runs: number[] }> {
  return withPostgresInstance(url, async (cs) => {
    await registerAll(cs, 'poller:repo-', n)
    let found = 0
    for (let index = 0; index < 10_000; index++) if (await cs.getChangeSource((index % n) + 1)) found++
    const runs: number[] = []
    for (let run = 0; run < 3; run++) {
      const start = nowNs()
      for (let index = 0; index < calls; index++) if ((await cs.getChangeSource(((index * 7919) % n) + 1)) !== null) found++
      runs.push((calls / usSince(start)) * 1e6)
    }
    if (found === 0) throw new Error('getChangeSource found nothing')
    return { callsPerSecond: median(runs), runs }
  })
}

const ms = (us: number) => `${(us / 1000).toFixed(2)} ms`
const spread = (values: readonly number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`
const percents = (shares: readonly number[]) => shares.map((share) => `${(share * 100).toFixed(0)}%`).join(', ')
const latencyNote = (rate: Rate, per: string) => `p50 ${ms(rate.p50!)}, p99 ${ms(rate.p99!)} ${per}`
