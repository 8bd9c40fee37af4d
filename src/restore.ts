/**
 * Restoring a state from the log: from the stored snapshot when it can be trusted, plus the
 * records after it; from the first record otherwise. Used by open (the state at the head) and by
 * the point-in-time queries (the state at an earlier seq or time).
 *
 * A snapshot is trusted only when its head and every chunk pass their checksums, it is of this
 * schema version and format, and the log's record at its seq decodes and carries its hash. Any
 * other snapshot is ignored, with the reason, and the state is folded from seq 1: a snapshot never
 * makes a restore fail and never wins over the log.
 */
import { GENESIS_HASH, initialState, type ChangeSourcesState } from './projection.js'
import { SCHEMA_VERSION, type ChangeRecord } from './events.js'
import { applyRecord } from './evolve.js'
import { freezeFresh } from './id-trie.js'
import type { LogStore } from './log-store.js'
import { decodeRecord, checkedRecord } from './record-codec.js'
import {
  CHUNK_IDS,
  CHUNK_PREFIX,
  HEAD_PART,
  SNAPSHOT_FORMAT,
  chunkCountOf,
  chunkPartName,
  digestOf,
  headChecksum,
  sha256,
  type ChunkRow,
  type SnapshotHead,
} from './snapshot.js'

/** Where to stop: after seq `seq`, or after the last record (in seq order) stamped at or before `time`. */
export type RestoreTarget = { seq: number } | { time: number } | 'head'

export interface Restored {
  readonly state: ChangeSourcesState
  /** The snapshot the state started from, or why the stored one was not used. */
  readonly snapshot: { readonly used: true; readonly seq: number; readonly checksums: string[] } | { readonly used: false; readonly reason: string }
  /** The records folded on top of the snapshot (or of the empty state). */
  readonly recordsFolded: number
  /** The ids the folded records touched after a snapshot (for the snapshotter's dirty chunks); empty when none was used. */
  readonly touchedIds: ReadonlySet<number>
  /** The timestamp of the state's last record; undefined for the empty state. */
  readonly timestamp: number | undefined
}

/** Counts every record folded by a restore in this process; tests read it to prove a restore folded only the tail. */
export const restoreCounters = { recordsFolded: 0, snapshotsUsed: 0 }

export async function restoreState(
  store: LogStore,
  target: RestoreTarget = 'head',
  onRecord?: (record: ChangeRecord) => void,
): Promise<Restored> {
  const loaded = await loadSnapshot(store, target)
  const state = loaded.state ?? initialState()
  const touchedIds = new Set<number>()
  // Only the chunks changed after a snapshot matter to the snapshotter: without one it rewrites
  // every chunk, and a set of every id of a long log costs more than the rest of the bookkeeping.
  const trackTouched = loaded.state !== undefined
  let timestamp = loaded.state === undefined ? undefined : loaded.head!.timestamp
  let recordsFolded = 0
  const to = typeof target === 'object' && 'seq' in target ? target.seq : undefined
  const until = typeof target === 'object' && 'time' in target ? target.time : undefined
  reading: for await (const chunk of store.read({ from: state.seq + 1, ...(to === undefined ? {} : { to }) })) {
    for (const entry of chunk) {
      const record = checkedRecord(state, entry)
      if (until !== undefined && record.timestamp > until) break reading
      applyRecord(state, record)
      if (trackTouched) touchedIds.add(record.changesourceid)
      timestamp = record.timestamp
      recordsFolded += 1
      onRecord?.(record)
    }
  }
  if (to !== undefined && state.seq !== to) {
    // Only reachable when the log ends early: the caller asked for a seq past its head.
    throw new RangeError(`the log ends at seq ${state.seq}, before seq ${to}`)
  }
  restoreCounters.recordsFolded += recordsFolded
  if (loaded.state !== undefined) restoreCounters.snapshotsUsed += 1
  return {
    state: freezeFresh(state),
    snapshot: loaded.state === undefined ? { used: false, reason: loaded.reason! } : { used: true, seq: loaded.head!.seq, checksums: loaded.checksums! },
    recordsFolded,
    touchedIds,
    timestamp,
  }
}

interface LoadedSnapshot {
  state?: ChangeSourcesState
  head?: SnapshotHead
  checksums?: string[]
  reason?: string
}

/** The stored snapshot as a mutable state, when it is whole, agrees with the log and lies before `target`. */
export async function loadSnapshot(store: LogStore, target: RestoreTarget): Promise<LoadedSnapshot> {
  try {
    const head = await readHead(store)
    if (typeof head === 'string') return { reason: head }
    if (head.seq > store.head) return { reason: `the snapshot is at seq ${head.seq}, past the end of the log (seq ${store.head})` }
    if (typeof target === 'object' && 'seq' in target && head.seq > target.seq) return { reason: 'the snapshot is after the requested point' }
    if (typeof target === 'object' && 'time' in target && head.timestamp > target.time) return { reason: 'the snapshot is after the requested point' }
    const logProblem = await checkAgainstLog(store, head)
    if (logProblem !== undefined) return { reason: logProblem }
    const chunks = await readChunks(store, head)
    if (typeof chunks === 'string') return { reason: chunks }
    const state = initialState()
    for (const rows of chunks.rows) {
      for (const [id, name, masterid] of rows) {
        // The same reducer as replay: a registration, then the claim when the source is held.
        applyRecord(state, { type: 'ChangeSourceRegistered', changesourceid: id, name, seq: 0, timestamp: 0, version: SCHEMA_VERSION, hash: '' })
        if (masterid !== null) {
          applyRecord(state, { type: 'MasterClaimed', changesourceid: id, masterid, seq: 0, timestamp: 0, version: SCHEMA_VERSION, hash: '' })
        }
      }
    }
    state.seq = head.seq
    state.hash = head.hash
    state.nextId = head.nextId
    return { state, head, checksums: chunks.checksums }
  } catch (error) {
    // Reading the snapshot failed: the log still can be read, so the snapshot is simply not used.
    return { reason: `the snapshot could not be read: ${(error as Error)?.message ?? String(error)}` }
  }
}

async function readHead(store: LogStore): Promise<SnapshotHead | string> {
  let value: string | undefined
  for await (const parts of store.readSnapshot(HEAD_PART)) {
    for (const part of parts) if (part.name === HEAD_PART) value = part.value
  }
  if (value === undefined) return 'there is no snapshot'
  let head: SnapshotHead
  try {
    head = JSON.parse(value) as SnapshotHead
  } catch {
    return 'the snapshot head is not valid JSON'
  }
  if (typeof head !== 'object' || head === null || head.checksum !== headChecksum(head)) return 'the snapshot head fails its checksum'
  if (head.format !== SNAPSHOT_FORMAT) return `the snapshot is of format ${String(head.format)}, not ${SNAPSHOT_FORMAT}`
  if (head.schemaVersion !== SCHEMA_VERSION) return `the snapshot is of schema version ${String(head.schemaVersion)}, not ${SCHEMA_VERSION}`
  if (head.chunkIds !== CHUNK_IDS) return `the snapshot has chunks of ${String(head.chunkIds)} ids, not ${CHUNK_IDS}`
  const wellFormed =
    Number.isSafeInteger(head.seq) &&
    head.seq > 0 &&
    Number.isSafeInteger(head.nextId) &&
    head.nextId >= 1 &&
    head.chunkCount === chunkCountOf(head.nextId) &&
    typeof head.hash === 'string' &&
    typeof head.timestamp === 'number'
  return wellFormed ? head : 'the snapshot head is not well formed'
}

async function checkAgainstLog(store: LogStore, head: SnapshotHead): Promise<string | undefined> {
  let previousHash = GENESIS_HASH
  let value: string | undefined
  for await (const entries of store.read({ from: Math.max(1, head.seq - 1), to: head.seq })) {
    for (const entry of entries) {
      if (entry.seq === head.seq) value = entry.value
      else previousHash = (JSON.parse(entry.value) as { hash?: unknown }).hash as string
    }
  }
  if (value === undefined) return `the log has no record at the snapshot's seq ${head.seq}`
  let record: ChangeRecord
  try {
    record = decodeRecord(head.seq, value, previousHash)
  } catch (error) {
    return `the log's record at the snapshot's seq ${head.seq} does not decode: ${(error as Error).message}`
  }
  if (record.hash !== head.hash) return `the snapshot's hash is not the log's at seq ${head.seq}`
  if (record.timestamp !== head.timestamp) return `the snapshot's timestamp is not the log's at seq ${head.seq}`
  return undefined
}

async function readChunks(store: LogStore, head: SnapshotHead): Promise<{ rows: ChunkRow[][]; checksums: string[] } | string> {
  const rows: ChunkRow[][] = []
  const checksums: string[] = []
  let previousId = 0
  for await (const parts of store.readSnapshot(CHUNK_PREFIX)) {
    for (const part of parts) {
      const index = rows.length
      if (index >= head.chunkCount) break
      if (part.name !== chunkPartName(index)) return `the snapshot chunk ${index} is missing`
      let chunk: unknown
      try {
        chunk = JSON.parse(part.value)
      } catch {
        return `the snapshot chunk ${index} is not valid JSON`
      }
      if (!Array.isArray(chunk) || !chunk.every((row) => isRow(row, index))) return `the snapshot chunk ${index} is not well formed`
      // Ids are 1, 2, 3, … without gaps: each row must be the next one.
      for (const [id] of chunk as ChunkRow[]) if (id !== ++previousId) return `the snapshot chunk ${index} skips or repeats an id`
      rows.push(chunk as ChunkRow[])
      checksums.push(sha256(part.value))
    }
  }
  if (rows.length < head.chunkCount) return `the snapshot chunk ${rows.length} is missing`
  if (previousId !== head.nextId - 1) return `the snapshot holds ${previousId} change sources where its nextId says ${head.nextId - 1}`
  if (digestOf(checksums) !== head.digest) return 'the snapshot chunks fail their checksum'
  return { rows, checksums }
}

function isRow(row: unknown, index: number): row is ChunkRow {
  if (!Array.isArray(row) || row.length !== 3) return false
  const [id, name, masterid] = row as unknown[]
  return (
    typeof id === 'number' &&
    Number.isSafeInteger(id) &&
    id >= Math.max(1, index * CHUNK_IDS) &&
    id < (index + 1) * CHUNK_IDS &&
    typeof name === 'string' &&
    (masterid === null || (typeof masterid === 'number' && Number.isSafeInteger(masterid) && masterid > 0))
  )
}
