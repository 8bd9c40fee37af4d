// What the background snapshots cost the writes around them, at scale:
// `node --max-old-space-size=8192 --import tsx scripts/snapshot-overhead.ts [changeSources]`
// (default 1,000,000). On a log built as the bench builds it, with a snapshot at its head, the
// bench's scattered claim-release cycles (10,000 records to warm, then 30,000 timed, crossing three
// snapshots), once each way, twice, in one process: snapshots off; changes tracked but no
// snapshot ever due; snapshots encoded but not written; the default. Prints, in µs per write, the
// wall time, the main thread's busy time (event-loop utilisation) and the process's CPU.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildLog } from '../bench/build-log.js'
import { takeSnapshot } from '../bench/open.js'
import { ChangeSources } from '../src/index.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'

const n = Number(process.argv[2] ?? 1_000_000)
const folder = await mkdtemp(join(tmpdir(), 'changesources-snapshot-overhead-'))
await buildLog(folder, n)
await takeSnapshot(folder, 50)

let writeSnapshots = true
const realWrite = LevelLogStore.prototype.writeSnapshot
LevelLogStore.prototype.writeSnapshot = async function (this: LevelLogStore, parts) {
  if (writeSnapshots) await realWrite.call(this, parts)
}

// As bench/scale.ts: ids ≡ 50 (mod 100), scattered over the range, that nobody holds.
const pool = Math.max(1, Math.floor(n / 100))
const idOf = (index: number) => ((index * 7919) % pool) * 100 + 50
const variants: Array<[string, number | undefined, boolean]> = [
  ['snapshots off', 0, true],
  ['changes tracked, none due', 1e9, true],
  ['encoded, not written', undefined, false],
  ['the default', undefined, true],
]
const results = new Map<string, string[]>()
for (let round = 0; round < 2; round++) {
  for (const [label, snapshotEvery, write] of variants) {
    writeSnapshots = write
    const cs = await ChangeSources.open({ location: folder, sync: false, ...(snapshotEvery === undefined ? {} : { snapshotEvery }) })
    const cycle = async (index: number) => {
      await cs.setChangeSourceMaster(idOf(index), 6)
      await cs.setChangeSourceMaster(idOf(index), null)
    }
    for (let index = 0; index < 5_000; index++) await cycle(index)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const loop = performance.eventLoopUtilization()
    const cpu = process.cpuUsage()
    const start = process.hrtime.bigint()
    for (let index = 0; index < 15_000; index++) await cycle(5_000 + index)
    const wall = Number(process.hrtime.bigint() - start) / 1000 / 30_000
    const busy = (performance.eventLoopUtilization(loop).active * 1000) / 30_000
    const used = process.cpuUsage(cpu)
    const figures = `${wall.toFixed(1)} (main thread ${busy.toFixed(1)}, CPU ${((used.user + used.system) / 30_000).toFixed(1)})`
    results.set(label, [...(results.get(label) ?? []), figures])
    await cs.close()
  }
}
for (const [label, figures] of results) console.log(`${label}: ${figures.join('; ')} µs per write`)
await rm(folder, { recursive: true, force: true })
