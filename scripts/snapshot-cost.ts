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
import { encodeSnapshot, partsChangedBy, type EncodedSnapshot, type StoredSnapshot } from '../src/snapshot.js'
import { PAGE_KEYS } from '../src/id-trie.js'
import { getChangeSources } from '../src/projection.js'
import type { SnapshotPart } from '../src/log-store.js'
import type { ChangeSourcesState } from '../src/projection.js'

const N = Number(process.argv[2] ?? 1_000_000)
const folder = await mkdtemp(join(tmpdir(), 'changesources-snapshot-cost-'))
const db = new Level(join(folder, 'db'))
await db.open()
const store = await LevelLogStore.open(db, { sync: false })
const state = initialState()
const ms = (start: bigint): string => (Number(process.hrtime.bigint() - start) / 1e6).toFixed(0) + ' ms'
const size = (parts: SnapshotPart[]): string => (parts.reduce((sum, part) => sum + (part.value?.length ?? 0), 0) / 1e6).toFixed(2) + ' MB'

async function append(events: ChangeEvent[]): Promise<ChangeRecord[]> {
  const records: ChangeRecord[] = []
  for (const event of events) {
    const record = stampEvent(event, state.seq + 1, Date.now(), state.hash)
    applyRecord(state, record)
    records.push(record)
  }
  await store.append(records.map((record) => ({ seq: record.seq, value: encodeRecord(record) })), records[0]!.seq - 1)
  return records
}

/** Encodes a snapshot of `at` (all at once: the component slices the same work between writes) and writes it. */
async function snapshot(at: ChangeSourcesState, timestamp: number, stored?: StoredSnapshot, dirty = new Set<string>()): Promise<EncodedSnapshot & { encodeMs: number }> {
  const begin = process.hrtime.bigint()
  const encoded = await encodeSnapshot(at, timestamp, stored, dirty)
  const encodeMs = Number(process.hrtime.bigint() - begin) / 1e6
  await store.writeSnapshot(encoded.parts)
  return { ...encoded, encodeMs }
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
start = process.hrtime.bigint()
const full = await snapshot(state, Date.now())
console.log(`full snapshot: ${full.parts.length - 1} pages, ${size(full.parts)}, encoded in ${full.encodeMs.toFixed(0)} ms, encoded and written in ${ms(start)}`)

for (const k of [100, 1000, 10_000]) {
  // K random release/claim pairs across the whole id range, then one snapshot of the dirty pages,
  // over the full one (as the component does: the stored checksums, the pages the records changed).
  const dirty = new Set<string>()
  for (let i = 0; i < k; i++) {
    const id = 1 + Math.floor(Math.random() * N)
    // Every change source is held by the master the log was built with: a release and the claim back.
    const holder = 1 + (id % 40)
    const events: ChangeEvent[] = [
      { type: 'MasterReleased', changesourceid: id, masterid: holder, reason: 'released' },
      { type: 'MasterClaimed', changesourceid: id, masterid: holder },
    ]
    for (const record of await append(events)) partsChangedBy(record, dirty)
  }
  const after = await snapshot(state, Date.now(), full.stored, dirty)
  console.log(`snapshot after ${k * 2} records touching ${k} random change sources: ${after.parts.length - 1} dirty pages, ${size(after.parts)}, encoded in ${after.encodeMs.toFixed(0)} ms`)
}

start = process.hrtime.bigint()
const restored = await restoreState(store)
console.log(`open from the snapshot: ${ms(start)} (${restored.recordsFolded} records folded, snapshot used: ${restored.snapshot.used})`)
start = process.hrtime.bigint()
const everything = getChangeSources(restored.state).length
console.log(`then every page built (getChangeSources() of ${everything}): ${ms(start)}`)
const replayed = await (async () => {
  const records = state.seq
  await db.put('snapshot!head', 'damaged')
  start = process.hrtime.bigint()
  const r = await restoreState(store)
  return `full replay of ${records} records: ${ms(start)} (${r.recordsFolded} folded)`
})()
console.log(replayed)
await db.close()
await rm(folder, { recursive: true, force: true })
