/**
 * `npm run bench`: the benchmark. Prints one table (and `--json` prints the figures for machines);
 * `--quick` runs a smaller subset (fewer calls, scale up to 100,000, 1 run of each cold start).
 * Section 8 (PostgreSQL, on a throwaway server) runs last; `--postgres` runs it alone, `--no-postgres` skips it.
 * It measures and prints; it asserts nothing. See docs/benchmarks.md for what each row means.
 */
import Table from 'cli-table3'
import { mapFold, rawChainedBatch, rawSequentialPut, type Rate } from './baselines.js'
import { coldIteratorReads, coldOpens, snapshotsSupported, takeSnapshot } from './open.js'
import { buildLog } from './build-log.js'
import { buildAndOpen, cyclesAtScale, meanCostWithSnapshots, readsAtScale } from './scale.js'
import { postgresSection, type SectionRow as Row } from './postgres-section.js'
import { inPairs, medianRun, pairedRatio, ratiosOf, type Pairs } from './paired.js'
import { median, tempFolder } from './util.js'
import { concurrentWrites, craftedRegistrations, sequentialWrites, type OpFigure, type SequentialKind } from './writes.js'

const args = new Set(process.argv.slice(2))
const quick = args.has('--quick')
const postgresOnly = args.has('--postgres')
const withPostgres = !args.has('--no-postgres')
const json = args.has('--json')
const log = (message: string) => process.stderr.write(`${message}\n`)

const rows: Row[] = []
const raw: Record<string, unknown> = {}
const add = (row: Row) => rows.push(row)
const started = Date.now()

const RUNS = quick ? 2 : 3
// The paired write sections are cheap (about a second a run) and the noisiest: more runs.
const PAIRED_RUNS = quick ? 3 : 5
const SEQ_DURABLE = quick ? 200 : 500
const SEQ_RELAXED = quick ? 1000 : 3000
const SIZES = quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]
const READ_SIZES = quick ? [10_000, 100_000] : [10_000, 1_000_000]
const OPEN_RUNS = quick ? 1 : 3

if (!postgresOnly) await levelSections()
if (withPostgres || postgresOnly) {
  const section = await postgresSection(quick, log)
  rows.push(...section.rows)
  Object.assign(raw, section.raw)
}

/** Sections 1 to 7: the LevelDB store. */
async function levelSections(): Promise<void> {
  // 1. Sequential writes and 2. concurrent writes, each run paired with its raw baseline (paired.ts).
  const sequential: Record<'relaxed' | 'durable', Pairs<Record<SequentialKind, OpFigure>>> = {} as never
  for (const sync of [false, true]) {
    const mode = sync ? 'durable' : 'relaxed'
    const count = sync ? SEQ_DURABLE : SEQ_RELAXED
    log(`sequential writes, ${mode}, paired with raw puts …`)
    sequential[mode] = await inPairs(PAIRED_RUNS, () => rawSequentialPut(sync, count), () => sequentialWrites(sync, count))
  }
  const concurrent: Record<number, Pairs<OpFigure>> = {}
  for (const callers of [1, 8, 64, 256]) {
    log(`concurrent writes, ${callers} in flight, paired with raw chained batches of ${callers} …`)
    const perCaller = Math.max(quick ? 4 : 8, Math.floor((quick ? 600 : 2000) / callers))
    const batches = Math.max(20, Math.floor((SEQ_DURABLE * 4) / callers))
    concurrent[callers] = await inPairs(PAIRED_RUNS, () => rawChainedBatch(callers, true, batches), () => concurrentWrites(callers, perCaller))
  }
  log('sequential writes, relaxed: registrations of names crafted into one bucket …')
  const crafted = await repeat(RUNS, () => craftedRegistrations(SEQ_RELAXED))
  log('baselines: raw chained batches of 100 without sync …')
  const batchRelaxed100 = medianRun(await repeat(RUNS, () => rawChainedBatch(100, false, 200)), (rate) => rate.perSecond)

  // 7. The baselines of 1 and 2 (the median run of each), printed first.
  const putRelaxed = medianRun(sequential.relaxed.raw, (rate) => rate.perSecond)
  const putDurable = medianRun(sequential.durable.raw, (rate) => rate.perSecond)
  const batchDurable: Record<number, Rate> = {}
  for (const size of [1, 8, 64, 256]) batchDurable[size] = medianRun(concurrent[size]!.raw, (rate) => rate.perSecond)
  Object.assign(raw, { putRelaxed, putDurable, batchDurable, batchRelaxed100 })
  add({ section: '7 baseline', what: 'raw put, sequential, sync:false', figure: putRelaxed.perSecond, unit: 'rec/s', note: `p50 ${putRelaxed.p50!.toFixed(0)} µs, p99 ${putRelaxed.p99!.toFixed(0)} µs` })
  add({ section: '7 baseline', what: 'raw put, sequential, sync:true', figure: putDurable.perSecond, unit: 'rec/s', note: `p50 ${putDurable.p50!.toFixed(0)} µs, p99 ${putDurable.p99!.toFixed(0)} µs` })
  for (const size of [1, 8, 64, 256]) {
    add({ section: '7 baseline', what: `raw chained batch of ${size}, sync:true`, figure: batchDurable[size]!.perSecond, unit: 'rec/s', note: `p50 ${batchDurable[size]!.p50!.toFixed(0)} µs per batch` })
  }
  add({ section: '7 baseline', what: 'raw chained batch of 100, sync:false', figure: batchRelaxed100.perSecond, unit: 'rec/s' })

  const labels = { register: 'registrations', claim: 'claims', release: 'releases', cycle: 'claim-release cycles', conflict: 'conflicting claims (refused)' }
  for (const sync of [false, true]) {
    const mode = sync ? 'durable' : 'relaxed'
    const pairs = sequential[mode]
    const figures: Partial<Record<SequentialKind, OpFigure>> = {}
    raw[sync ? 'sequentialDurable' : 'sequentialRelaxed'] = figures
    for (const [kind, label] of Object.entries(labels) as Array<[SequentialKind, string]>) {
      const figure = medianRun(pairs.ours.map((run) => run[kind]), (run) => run.callsPerSecond)
      figures[kind] = figure
      const writes = kind !== 'conflict'
      const ratio = writes ? pairedRatio(pairs, (run) => run[kind].recordsPerSecond) : undefined
      const target = writes && kind !== 'cycle' ? (sync ? '≥ 0.8' : '≥ 0.6') : undefined
      add({
        section: `1 sequential ${mode}`,
        what: label,
        figure: figure.callsPerSecond,
        unit: 'calls/s',
        baseline: writes ? `raw put ${sync ? 'sync' : 'no sync'} (rec/s)` : undefined,
        ratio,
        target,
        met: target === undefined || ratio === undefined ? undefined : ratio >= (sync ? 0.8 : 0.6),
        note: `${figure.recordsPerSecond.toFixed(0)} rec/s; p50 ${figure.p50.toFixed(0)} µs, p99 ${figure.p99.toFixed(0)} µs${writes ? `; ratios ${spread(ratiosOf(pairs, (run) => run[kind].recordsPerSecond))}` : ''}`,
      })
    }
  }
  {
    const ratios = crafted.map((run) => run.crafted.callsPerSecond / run.plain.callsPerSecond)
    const figure = medianRun(crafted.map((run) => run.crafted), (run) => run.callsPerSecond)
    raw.craftedRegistrations = crafted
    add({
      section: '1 sequential relaxed',
      what: 'registrations of names crafted into one name bucket',
      figure: figure.callsPerSecond,
      unit: 'calls/s',
      baseline: 'ordinary names, same run',
      ratio: median(ratios),
      note: `p50 ${figure.p50.toFixed(0)} µs, p99 ${figure.p99.toFixed(0)} µs; ratios ${spread(ratios)}`,
    })
  }
  const durableSequential = medianRun(sequential.durable.ours.map((run) => run.claim), (run) => run.recordsPerSecond).recordsPerSecond

  for (const callers of [1, 8, 64, 256]) {
    const pairs = concurrent[callers]!
    const figure = medianRun(pairs.ours, (run) => run.recordsPerSecond)
    raw[`concurrent${callers}`] = figure
    const ratio = pairedRatio(pairs, (run) => run.recordsPerSecond)
    add({
      section: '2 concurrent durable',
      what: `${callers} callers in flight`,
      figure: figure.recordsPerSecond,
      unit: 'rec/s',
      baseline: `raw batch of ${callers}, sync`,
      ratio,
      target: callers === 64 ? '≥ 0.5' : undefined,
      met: callers === 64 ? ratio >= 0.5 : undefined,
      note: `p50 ${figure.p50.toFixed(0)} µs, p99 ${figure.p99.toFixed(0)} µs per call; ratios ${spread(ratiosOf(pairs, (run) => run.recordsPerSecond))}`,
    })
    if (callers === 64) {
      const vsSequential = figure.recordsPerSecond / durableSequential
      add({ section: '2 concurrent durable', what: '64 in flight vs durable sequential claims', figure: vsSequential, unit: '×', target: '≥ 10', met: vsSequential >= 10 })
    }
  }

  // 3. Scale and 4. reads; the largest log is kept for 5 and 6.
  let largest: { path: string; cleanup: () => Promise<void>; n: number; probeId: number } | undefined
  let cyclesAtSmallest: number | undefined
  for (const n of SIZES) {
    log(`scale: ${n.toLocaleString('en')} change sources (build, open, cycles${READ_SIZES.includes(n) ? ', reads' : ''}) …`)
    const folder = await tempFolder(`scale-${n}`)
    const { cs, buildMs, openMs, log: built } = await buildAndOpen(folder.path, n)
    const cycles = await cyclesAtScale(cs, n, quick ? 300 : 1000, RUNS)
    raw[`scale${n}`] = { buildMs, openMs, records: built.records, cycles }
    // The median latency per write: the mean is at the mercy of the disk's stalls on this shared machine.
    cyclesAtSmallest ??= cycles.p50
    const ratio = cycles.p50 / cyclesAtSmallest
    const last = n === SIZES[SIZES.length - 1]
    add({
      section: '3 scale (relaxed)',
      what: `claim-release cycle at ${n.toLocaleString('en')} change sources`,
      figure: cycles.p50,
      unit: 'µs/write (p50)',
      baseline: n === SIZES[0] ? undefined : `the same at ${SIZES[0]!.toLocaleString('en')}`,
      ratio: n === SIZES[0] ? undefined : ratio,
      target: last && n === 1_000_000 ? '≤ 1.3' : undefined,
      met: last && n === 1_000_000 ? ratio <= 1.3 : undefined,
      note: `mean ${cycles.usPerWrite.toFixed(0)} µs, CPU ${cycles.cpuUsPerWrite.toFixed(0)} µs/write (all threads); p99 ${cycles.p99.toFixed(0)} µs; log built in ${(buildMs / 1000).toFixed(1)} s, opened in ${(openMs / 1000).toFixed(2)} s`,
    })
    if (READ_SIZES.includes(n)) {
      const reads = await readsAtScale(cs, n, quick)
      raw[`reads${n}`] = reads
      for (const read of reads) {
        const isGet = read.query === 'getChangeSource(id)'
        const isTen = read.query.includes('{masterid}) holding 10')
        const atMillion = n === 1_000_000
        add({
          section: `4 reads at ${n.toLocaleString('en')}`,
          what: read.query,
          figure: isGet ? read.callsPerSecond : read.usPerCall,
          unit: isGet ? 'calls/s' : 'µs/call',
          target: isGet ? '≥ 1,000,000' : isTen && atMillion ? '< 50 µs' : undefined,
          met: isGet ? read.callsPerSecond >= 1_000_000 : isTen && atMillion ? read.usPerCall < 50 : undefined,
          note: `answer ${read.answer.toLocaleString('en')}${Number.isNaN(read.nsPerItem) ? '' : `, ${read.nsPerItem.toFixed(0)} ns per item`}`,
        })
      }
    }
    await cs.close()
    if (last) largest = { ...folder, n, probeId: 50 }
    else await folder.cleanup()
  }

  // 5. Open, 6. memory, and the read and fold baselines, on the largest log.
  if (largest !== undefined) {
    const { path, n } = largest
    log(`open: cold starts of the ${n.toLocaleString('en')}-change-source log, and raw iterator reads …`)
    const iterator = await coldIteratorReads(path, OPEN_RUNS)
    const withoutSnapshot = await coldOpens(path, OPEN_RUNS, { snapshotEvery: 0 })
    const fold = mapFold(n, RUNS)
    raw.iterator = iterator
    raw.openWithoutSnapshot = withoutSnapshot
    raw.mapFold = fold
    const openRate = (withoutSnapshot.head / withoutSnapshot.openMs) * 1000
    add({ section: '7 baseline', what: `raw iterator().nextv(1000) + JSON.parse, ${iterator.records.toLocaleString('en')} records`, figure: iterator.perSecond, unit: 'rec/s', note: `${(iterator.ms / 1000).toFixed(2)} s` })
    add({ section: '7 baseline', what: `mutable Map fold, ${n.toLocaleString('en')} change sources`, figure: fold.usPerOp, unit: 'µs/rec' })
    add({
      section: '5 open',
      what: `cold open to first answer, ${withoutSnapshot.head.toLocaleString('en')} records, no snapshot (full replay)`,
      figure: withoutSnapshot.openMs / 1000,
      unit: 's',
      baseline: 'raw iterator read rate',
      ratio: openRate / iterator.perSecond,
      target: '≥ 0.5 (rate)',
      met: openRate / iterator.perSecond >= 0.5,
      note: `${openRate.toFixed(0)} rec/s, ${((withoutSnapshot.openMs * 1000) / withoutSnapshot.head).toFixed(2)} µs/rec (Map fold floor ${fold.usPerOp.toFixed(2)} µs/rec)`,
    })
    if (await snapshotsSupported()) {
      log('open: with a snapshot …')
      const head = await takeSnapshot(path, largest.probeId)
      const withSnapshot = await coldOpens(path, OPEN_RUNS)
      raw.openWithSnapshot = { ...withSnapshot, snapshotAt: head }
      const ratio = withSnapshot.openMs / iterator.ms
      add({
        section: '5 open',
        what: `cold open to first answer, ${withSnapshot.head.toLocaleString('en')} records, snapshot at the head`,
        figure: withSnapshot.openMs / 1000,
        unit: 's',
        baseline: 'raw iterator read time',
        ratio,
        target: '≤ 0.1 (time)',
        met: ratio <= 0.1,
        note: `peak heap ${(withSnapshot.peakAboveBefore / 2 ** 20).toFixed(0)} MiB above the start`,
      })
    } else {
      add({ section: '5 open', what: 'with snapshot: not yet available', figure: NaN, unit: '', note: 'ChangeSources.open does not accept snapshotEvery yet' })
    }
    add({
      section: '6 memory',
      what: `heap per change source at ${withoutSnapshot.changeSources.toLocaleString('en')}`,
      figure: withoutSnapshot.bytesPerChangeSource,
      unit: 'bytes',
      target: '≤ 400',
      met: withoutSnapshot.bytesPerChangeSource <= 400,
      note: `heap after gc: ${(withoutSnapshot.heapBefore / 2 ** 20).toFixed(0)} MiB before open, ${(withoutSnapshot.heapAfter / 2 ** 20).toFixed(0)} MiB after`,
    })
    add({
      section: '6 memory',
      what: `peak heap while replaying ${withoutSnapshot.head.toLocaleString('en')} records`,
      figure: withoutSnapshot.peakHeap / 2 ** 20,
      unit: 'MiB',
      note: `${(withoutSnapshot.peakAboveBefore / 2 ** 20).toFixed(0)} MiB above the heap before open (sampled every 2 ms)`,
    })

    // 3 again, last because it leaves snapshots in the largest log: the mean with them, against 1,000.
    log(`scale: mean cost per write with background snapshots, at 1,000 and ${n.toLocaleString('en')} …`)
    const smallest = await tempFolder('scale-snapshots-1000')
    await buildLog(smallest.path, 1_000)
    const cycles = quick ? 5_000 : 15_000
    // Two runs of each, paired and alternating; each ratio within its pair.
    const { raw: atSmallest, ours: atLargest } = await inPairs(
      2,
      () => meanCostWithSnapshots(smallest.path, 1_000, cycles),
      () => meanCostWithSnapshots(path, n, cycles),
    )
    await smallest.cleanup()
    const ratio = median(atLargest.map((figure, run) => figure.usPerWrite / atSmallest[run]!.usPerWrite))
    raw.scaleWithSnapshots = { atSmallest, atLargest }
    const listed = (figures: typeof atSmallest, key: 'usPerWrite' | 'cpuUsPerWrite') => figures.map((figure) => figure[key].toFixed(0)).join(', ')
    add({
      section: '3 scale (relaxed)',
      what: `mean cost per write at ${n.toLocaleString('en')}, background snapshots included`,
      figure: median(atLargest.map((figure) => figure.usPerWrite)),
      unit: 'µs/write (mean)',
      baseline: 'the same at 1,000',
      ratio,
      target: n === 1_000_000 ? '≤ 1.3' : undefined,
      met: n === 1_000_000 ? ratio <= 1.3 : undefined,
      note: `${(2 * cycles).toLocaleString('en')} records a run, a snapshot every 10,000; 2 runs paired with 1,000: ${listed(atLargest, 'usPerWrite')} against ${listed(atSmallest, 'usPerWrite')} µs/write (CPU ${listed(atLargest, 'cpuUsPerWrite')} against ${listed(atSmallest, 'cpuUsPerWrite')})`,
    })
    await largest.cleanup()
  }
}

async function repeat<T>(runs: number, once: () => Promise<T>): Promise<T[]> {
  const results: T[] = []
  for (let run = 0; run < runs; run++) results.push(await once())
  return results
}

/** The lowest and highest of a section's per-run ratios. */
function spread(ratios: readonly number[]): string {
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`
}

const seconds = (Date.now() - started) / 1000
const format = (value: number, unit: string) =>
  Number.isNaN(value) ? '—' : unit === '×' || unit === 's' ? value.toFixed(2) : value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(2)

if (json) {
  process.stdout.write(JSON.stringify({ machine: machine(), quick, seconds, rows, raw }, null, 2) + '\n')
} else {
  const table = new Table({ head: ['', 'measure', 'figure', 'unit', 'ratio to', 'ratio', 'target', 'met', 'notes'], style: { head: [], border: [] } })
  for (const row of rows) {
    table.push([
      row.section,
      row.what,
      format(row.figure, row.unit),
      row.unit,
      row.baseline ?? '',
      row.ratio === undefined ? '' : row.ratio.toFixed(2),
      row.target ?? '',
      row.met === undefined ? '' : row.met ? 'yes' : 'NO',
      row.note ?? '',
    ])
  }
  process.stdout.write(`${machine()}\n${table.toString()}\nbench ran in ${seconds.toFixed(0)} s${quick ? ' (--quick)' : ''}\n`)
  if (args.has('--markdown')) {
    const cell = (text: string) => text.replaceAll('|', '\\|')
    process.stdout.write('\n| | measure | figure | unit | ratio to | ratio | target | met | notes |\n|---|---|--:|---|---|--:|---|---|---|\n')
    for (const row of rows) {
      const ratio = row.ratio === undefined ? '' : row.ratio.toFixed(2)
      const met = row.met === undefined ? '' : row.met ? 'yes' : '**no**'
      process.stdout.write(`| ${row.section} | ${cell(row.what)} | ${format(row.figure, row.unit)} | ${row.unit} | ${cell(row.baseline ?? '')} | ${ratio} | ${row.target ?? ''} | ${met} | ${cell(row.note ?? '')} |\n`)
    }
  }
}

function machine(): string {
  return `node ${process.version}, ${(globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? '?'} CPUs, ${process.platform}/${process.arch}, level on disk in ${process.env.TMPDIR ?? '/tmp'}`
}
