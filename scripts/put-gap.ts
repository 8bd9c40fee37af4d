// How CPU spent between two LevelDB puts slows the put itself on this machine kind (a VM whose idle
// vCPUs poll briefly, then halt): `node --import tsx scripts/put-gap.ts`. Sequential raw puts of
// log-sized values, with 0 … 40 µs of busy-waiting on the main thread before each; prints the time
// per put with the busy-wait taken out. docs/benchmarks.md uses it to explain the relaxed
// sequential figures.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'

const key = (seq: number): string => 'log!' + seq.toString(16).padStart(16, '0')
const value = (seq: number): string =>
  JSON.stringify({ seq, type: 'MasterClaimed', changesourceid: seq, masterid: 3, timestamp: Date.now(), version: 1, hash: 'ab'.repeat(32) })
const spin = (us: number): void => {
  const end = performance.now() + us / 1000
  while (performance.now() < end);
}

const PUTS = 3000
for (let round = 1; round <= 2; round++) {
  for (const gap of [0, 5, 10, 20, 40]) {
    const folder = await mkdtemp(join(tmpdir(), 'changesources-put-gap-'))
    const db = new Level<string, string>(folder)
    await db.open()
    for (let seq = 1; seq <= 1000; seq++) await db.put(key(seq), value(seq))
    const start = performance.now()
    for (let seq = 1001; seq <= 1000 + PUTS; seq++) {
      spin(gap)
      await db.put(key(seq), value(seq))
    }
    const perPut = ((performance.now() - start) * 1000) / PUTS - gap
    console.log(`round ${round}: ${String(gap).padStart(2)} µs of CPU before each put → the put itself ${perPut.toFixed(1)} µs`)
    await db.close()
    await rm(folder, { recursive: true, force: true })
  }
}
