/**
 * `npm run bench`: the benchmark. Prints one table (and `--json` prints the figures for machines);
 * `--quick` runs a smaller subset (fewer calls, scale up to 100,000, 1 run of each cold start).
 * It measures and prints; it asserts nothing. See docs/benchmarks.md for what each row means.
 */
import Table from 'cli-table3'
import { mapFold, rawChainedBatch, rawSequentialPut, type Rate } from './baselines.js'
import { coldIteratorReads, coldOpens, snapshotsSupported, takeSnapshot } from './open.js'
import { buildAndOpen, cyclesAtScale, readsAtScale } from './scale.js'
import { tempFolder } from './util.js'
import { concurrentWrites, sequentialWrites } from './writes.js'

const args = new Set(process.argv.slice(2))
const quick = args.has('--quick')
const json = args.has('--json')
const log = (message: string) => process.stderr.write(`${message}\n`)

interface Row {
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
const rows: Row[] = []
const raw: Record<string, unknown> = {}
const add = (row: Row) => rows.push(row)
const started = Date.now()

const RUNS = quick ? 2 : 3
const SEQ_DURABLE = quick ? 200 : 500
const SEQ_RELAXED = quick ? 1000 : 3000
const SIZES = quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]
const READ_SIZES = quick ? [10_000, 100_000] : [10_000, 1_000_000]
const OPEN_RUNS = quick ? 1 : 3

// 7. Baselines for the writes.
log('baselines: raw level puts and chained batches …')
const putRelaxed = await rawSequentialPut(false, SEQ_RELAXED, RUNS)
const putDurable = await rawSequentialPut(true, SEQ_DURABLE, RUNS)
const batchDurable: Record<number, Rate> = {}
for (const size of [1, 8, 64, 256]) batchDurable[size] = await rawChainedBatch(size, true, Math.max(20, Math.floor(SEQ_DURABLE * 4 / size)), RUNS)
const batchRelaxed100 = await rawChainedBatch(100, false, 200, RUNS)
Object.assign(raw, { putRelaxed, putDurable, batchDurable, batchRelaxed100 })
add({ section: '7 baseline', what: 'raw put, sequential, sync:false', figure: putRelaxed.perSecond, unit: 'rec/s', note: `p50 ${putRelaxed.p50!.toFixed(0)} µs, p99 ${putRelaxed.p99!.toFixed(0)} µs` })
add({ section: '7 baseline', what: 'raw put, sequential, sync:true', figure: putDurable.perSecond, unit: 'rec/s', note: `p50 ${putDurable.p50!.toFixed(0)} µs, p99 ${putDurable.p99!.toFixed(0)} µs` })
for (const size of [1, 8, 64, 256]) {
  add({ section: '7 baseline', what: `raw chained batch of ${size}, sync:true`, figure: batchDurable[size]!.perSecond, unit: 'rec/s', note: `p50 ${batchDurable[size]!.p50!.toFixed(0)} µs per batch` })
}
add({ section: '7 baseline', what: 'raw chained batch of 100, sync:false', figure: batchRelaxed100.perSecond, unit: 'rec/s' })

// 1. Sequential writes.
const labels = { register: 'registrations', claim: 'claims', release: 'releases', cycle: 'claim-release cycles', conflict: 'conflicting claims (refused)' }
for (const sync of [false, true]) {
  log(`sequential writes, ${sync ? 'durable' : 'relaxed'} …`)
  const figures = await sequentialWrites(sync, sync ? SEQ_DURABLE : SEQ_RELAXED, RUNS)
  raw[sync ? 'sequentialDurable' : 'sequentialRelaxed'] = figures
  const base = sync ? putDurable : putRelaxed
  for (const [kind, label] of Object.entries(labels) as Array<[keyof typeof labels, string]>) {
    const figure = figures[kind]
    const writes = kind !== 'conflict'
    const ratio = writes ? figure.recordsPerSecond / base.perSecond : undefined
    const target = writes && kind !== 'cycle' ? (sync ? '≥ 0.8' : '≥ 0.6') : undefined
    add({
      section: `1 sequential ${sync ? 'durable' : 'relaxed'}`,
      what: label,
      figure: figure.callsPerSecond,
      unit: 'calls/s',
      baseline: writes ? `raw put ${sync ? 'sync' : 'no sync'} (rec/s)` : undefined,
      ratio,
      target,
      met: target === undefined || ratio === undefined ? undefined : ratio >= (sync ? 0.8 : 0.6),
      note: `${figure.recordsPerSecond.toFixed(0)} rec/s; p50 ${figure.p50.toFixed(0)} µs, p99 ${figure.p99.toFixed(0)} µs`,
    })
  }
}
const durableSequential = (raw.sequentialDurable as Record<string, { recordsPerSecond: number }>).claim!.recordsPerSecond

// 2. Concurrent writes, durable.
for (const callers of [1, 8, 64, 256]) {
  log(`concurrent writes, ${callers} in flight …`)
  const perCaller = Math.max(quick ? 4 : 8, Math.floor((quick ? 600 : 2000) / callers))
  const figure = await concurrentWrites(callers, perCaller, RUNS)
  raw[`concurrent${callers}`] = figure
  const ratio = figure.recordsPerSecond / batchDurable[callers]!.perSecond
  add({
    section: '2 concurrent durable',
    what: `${callers} callers in flight`,
    figure: figure.recordsPerSecond,
    unit: 'rec/s',
    baseline: `raw batch of ${callers}, sync`,
    ratio,
    target: callers === 64 ? '≥ 0.5' : undefined,
    met: callers === 64 ? ratio >= 0.5 : undefined,
    note: `p50 ${figure.p50.toFixed(0)} µs, p99 ${figure.p99.toFixed(0)} µs per call`,
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
  await largest.cleanup()
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
