// Measures what snapshots cost at scale: `node --import tsx scripts/snapshot-cost.ts [changeSources]`
// (default 1,000,000). Builds a log of N registrations + N claims on LevelDB in a temp folder, then
// times a full snapshot, a snapshot after K random claims/releases (only dirty pages), a restore
// from the snapshot (pages loaded lazily: then one query per page to build them all), and a full replay.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { applyRecord } from '../src/domain/evolve.js'
import type { ChangeRecord, ChangeEvent } from '../src/domain/events.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { initialState } from '../src/domain/projection.js'
import { encodeRecord, stampEvent } from '../src/log/record-codec.js'
import { restoreState } from '../src/engine/restore.js'
import { PageChanges } from '../src/snapshots/page-changes.js'
import { encodeSnapshot, type EncodedSnapshot, type StoredSnapshot } from '../src/snapshots/snapshot.js'
import { PAGE_KEYS } from '../src/domain/id-trie.js'
import { getChangeSources } from '../src/domain/projection.js'
import type { SnapshotPart } from '../src/stores/log-store.js'
import type { ChangeSourcesState } from '../src/domain/projection.js'

const N = Number(process.argv[2] ?? 1_000_000)
const folder = await mkdtemp(join(tmpdir(), 'changesources-snapshot-cost-'))
const db = new Level(join(folder, 'db'))
await db.open()
const store = await LevelLogStore.open(db, { sync: false })
const state = initialState()
/** The timestamp of the last record appended: a snapshot is stamped with its state's. */
let lastTimestamp = 0
const ms = (start: bigint): string => (Number(process.hrtime.bigint() - start) / 1e6).toFixed(0) + ' ms'
const size = (parts: SnapshotPart[]): string => (parts.reduce((sum, part) => sum + (part.value?.length ?? 0), 0) / 1e6).toFixed(2) + ' MB'

async function append(events: ChangeEvent[]): Promise<ChangeRecord[]> {
  const records: ChangeRecord[] = []
  for (const event of events) {
    const record = stampEvent(event, state.seq + 1, Date.now(), state.hash)
    applyRecord(state, record)
    records.push(record)
    lastTimestamp = record.timestamp
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
const full = await snapshot(state, lastTimestamp)
console.log(`full snapshot: ${full.parts.length - 1} pages, ${size(full.parts)}, encoded in ${full.encodeMs.toFixed(0)} ms, encoded and written in ${ms(start)}`)

// Who holds what: every change source is held by the master the log was built with, until a pair
// below moves it.
const holders = new Map<number, number>()
let stored = full.stored
for (const k of [100, 1000, 10_000]) {
  // K random moves across the whole id range (a release and a claim by the next master: a claim
  // back by the same master would change nothing to rewrite), then one snapshot of the dirty pages,
  // over the one before (as the component does: the stored checksums, what the records changed).
  const changes = new PageChanges()
  for (let i = 0; i < k; i++) {
    const id = 1 + Math.floor(Math.random() * N)
    const holder = holders.get(id) ?? 1 + (id % 40)
    const next = 1 + (holder % 40)
    holders.set(id, next)
    const events: ChangeEvent[] = [
      { type: 'MasterReleased', changesourceid: id, masterid: holder, reason: 'released' },
      { type: 'MasterClaimed', changesourceid: id, masterid: next },
    ]
    for (const record of await append(events)) changes.record(record)
  }
  const dirty = changes.dirtyIn(state)
  const after = await snapshot(state, lastTimestamp, stored, dirty)
  stored = after.stored
  console.log(`snapshot after ${k * 2} records moving ${k} random change sources: ${after.parts.length - 1} pages written, ${size(after.parts)}, encoded in ${after.encodeMs.toFixed(0)} ms`)
}

start = process.hrtime.bigint()
const restored = await restoreState(store)
console.log(`open from the snapshot: ${ms(start)} (${restored.recordsFolded} records folded, snapshot used: ${restored.snapshot.used}${restored.snapshot.used ? "" : `: ${restored.snapshot.reason}`})`)
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
