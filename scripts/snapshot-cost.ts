// Measures what snapshots cost at scale: `node --import tsx scripts/snapshot-cost.ts [changeSources]`
// (default 1,000,000). Builds a log of N registrations + N claims on LevelDB in a temp folder, then
// times a full snapshot, a snapshot after K random claims/releases (only dirty pages), a restore
// from the snapshot (pages loaded lazily: then one query per page to build them all), and a full replay.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { applyRecord } from '../src/evolve.js'
import type { ChangeRecord, ChangeEvent } from '../src/events.js'
import { LevelLogStore } from '../src/level-log-store.js'
import { initialState } from '../src/projection.js'
import { encodeRecord, stampEvent } from '../src/record-codec.js'
import { restoreState } from '../src/restore.js'
import { HEAD_PART, Snapshotter, sha256 } from '../src/snapshot.js'
import { PAGE_KEYS } from '../src/id-trie.js'
import { getChangeSources } from '../src/projection.js'
import type { SnapshotPart } from '../src/log-store.js'

const N = Number(process.argv[2] ?? 1_000_000)
const folder = await mkdtemp(join(tmpdir(), 'changesources-snapshot-cost-'))
const db = new Level(join(folder, 'db'))
await db.open()
const store = await LevelLogStore.open(db, { sync: false })
const state = initialState()
const ms = (start: bigint): string => (Number(process.hrtime.bigint() - start) / 1e6).toFixed(0) + ' ms'
const size = (parts: SnapshotPart[]): string => (parts.reduce((sum, part) => sum + (part.value?.length ?? 0), 0) / 1e6).toFixed(2) + ' MB'

async function append(events: ChangeEvent[], snapshotter?: Snapshotter): Promise<SnapshotPart[] | undefined> {
  const records: ChangeRecord[] = []
  for (const event of events) {
    const record = stampEvent(event, state.seq + 1, Date.now(), state.hash)
    applyRecord(state, record)
    records.push(record)
  }
  const parts = snapshotter?.partsFor(state, records)
  await store.append(records.map((record) => ({ seq: record.seq, value: encodeRecord(record) })), records[0]!.seq - 1, parts)
  return parts
}

let start = process.hrtime.bigint()
for (let first = 1; first <= N; first += 10_000) {
  const events: ChangeEvent[] = []
  for (let id = first; id < Math.min(first + 10_000, N + 1); id++) {
    events.push({ type: 'ChangeSourceRegistered', changesourceid: id, name: `poller:git.example.com/team-${id % 997}/repo-${id}` })
    events.push({ type: 'MasterClaimed', changesourceid: id, masterid: 1 + (id % 40) })
  }
  await append(events)
}
console.log(`pages of ${PAGE_KEYS} keys; log of ${state.seq} records (${N} change sources) written in ${ms(start)}`)

// A full snapshot: what the first snapshot after a full replay writes.
const snapshotter = new Snapshotter(1)
start = process.hrtime.bigint()
const parts = await append([{ type: 'MasterReleased', changesourceid: 1, masterid: 2, reason: 'released' }], snapshotter)
console.log(`full snapshot: ${parts!.length - 1} pages, ${size(parts!)}, encoded and written in ${ms(start)}`)
const checksums = new Map(parts!.filter((part) => part.name !== HEAD_PART).map((part) => [part.name, sha256(part.value!)]))

for (const k of [100, 1000, 10_000]) {
  // K random claim/release pairs across the whole id range, then one snapshot of the dirty pages.
  // Seeded as open seeds it after a restore: the stored snapshot's page checksums, nothing dirty.
  const seeded = new Snapshotter(k * 2, { checksums, dirtyParts: [] })
  const held = new Map<number, number>()
  let last: SnapshotPart[] | undefined
  let timeInPartsFor = 0n
  for (let i = 0; i < k; i++) {
    const id = 1 + Math.floor(Math.random() * N)
    const holder = held.get(id) ?? (id === 1 ? null : 1 + (id % 40))
    const events: ChangeEvent[] =
      holder === null
        ? [{ type: 'MasterClaimed', changesourceid: id, masterid: 41 }, { type: 'MasterReleased', changesourceid: id, masterid: 41, reason: 'released' }]
        : [{ type: 'MasterReleased', changesourceid: id, masterid: holder, reason: 'released' }, { type: 'MasterClaimed', changesourceid: id, masterid: holder }]
    const records: ChangeRecord[] = []
    for (const event of events) {
      const record = stampEvent(event, state.seq + 1, Date.now(), state.hash)
      applyRecord(state, record)
      records.push(record)
    }
    const t = process.hrtime.bigint()
    const p = seeded.partsFor(state, records)
    timeInPartsFor += process.hrtime.bigint() - t
    if (p !== undefined) last = p
    await store.append(records.map((record) => ({ seq: record.seq, value: encodeRecord(record) })), records[0]!.seq - 1, p)
  }
  console.log(
    `snapshot after ${k * 2} records touching ${k} random change sources: ${last!.length - 1} dirty pages, ${size(last!)}, ` +
      `encoded in ${(Number(timeInPartsFor) / 1e6).toFixed(0)} ms`,
  )
}

start = process.hrtime.bigint()
const restored = await restoreState(store)
console.log(`open from the snapshot: ${ms(start)} (${restored.recordsFolded} records folded, snapshot used: ${restored.snapshot.used})`)
start = process.hrtime.bigint()
const everything = getChangeSources(restored.state).length
console.log(`then every page built (getChangeSources() of ${everything}): ${ms(start)}`)
const full = await (async () => {
  const records = state.seq
  await db.put('snapshot!head', 'damaged')
  start = process.hrtime.bigint()
  const r = await restoreState(store)
  return `full replay of ${records} records: ${ms(start)} (${r.recordsFolded} folded)`
})()
console.log(full)
await db.close()
await rm(folder, { recursive: true, force: true })
