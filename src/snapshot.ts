/**
 * Snapshots: the projection saved beside the log so that open folds only the records after it.
 *
 * The projection is derived entirely from its change sources (id, name, holder) plus seq, hash and
 * nextId; the indexes (by name, claimed, unclaimed, by master) are rebuilt from those rows by the
 * reducer itself. The rows are stored in chunks of CHUNK_IDS consecutive ids, each under its own
 * key, so a snapshot rewrites only the chunks whose change sources changed since the last one:
 *
 *   head            {"format":1,"schemaVersion":1,"seq":…,"hash":…,"timestamp":…,"nextId":…,
 *                    "chunkIds":64,"chunkCount":…,"digest":…,"checksum":…}
 *   chunk!<8 hex>   [[id,name,masterid],…]   (the ids chunk*64 … chunk*64+63 that exist)
 *
 * `digest` is the SHA-256 of the chunks' own SHA-256s in chunk order, `checksum` the SHA-256 of the
 * head's other fields: a damaged, missing or stale chunk, or a damaged head, fails the check. The
 * parts are written in the same atomic batch as the record that completes the snapshot (writer.ts
 * asks `partsFor`), so the head and its chunks always agree. Loading is in restore.ts, which also
 * checks the head's seq and hash against the log: the log always wins.
 */
import { hash as digest } from 'node:crypto'
import { SCHEMA_VERSION, type ChangeRecord } from './events.js'
import { trieGet } from './id-trie.js'
import type { SnapshotPart } from './log-store.js'
import type { ChangeSource, ChangeSourcesState } from './projection.js'

/** Change sources per chunk: a snapshot rewrites 64 rows (~3.7 KB) per change source changed. */
export const CHUNK_IDS = 64
export const SNAPSHOT_FORMAT = 1
export const HEAD_PART = 'head'
export const CHUNK_PREFIX = 'chunk!'
/** The default of the `snapshotEvery` open option (see docs/log-format.md for the trade-off). */
export const DEFAULT_SNAPSHOT_EVERY = 10_000

export interface SnapshotHead {
  readonly format: number
  readonly schemaVersion: number
  readonly seq: number
  readonly hash: string
  readonly timestamp: number
  readonly nextId: number
  readonly chunkIds: number
  readonly chunkCount: number
  readonly digest: string
  readonly checksum: string
}

export type ChunkRow = readonly [id: number, name: string, masterid: number | null]

export function chunkPartName(index: number): string {
  return CHUNK_PREFIX + index.toString(16).padStart(8, '0')
}

export function chunkOf(id: number): number {
  return Math.floor(id / CHUNK_IDS)
}

/** The number of chunks a state with this nextId has (ids are 1 … nextId - 1). */
export function chunkCountOf(nextId: number): number {
  return nextId <= 1 ? 0 : chunkOf(nextId - 1) + 1
}

export function sha256(text: string): string {
  return digest('sha256', text, 'hex')
}

export function digestOf(checksums: readonly string[]): string {
  return sha256(checksums.join(''))
}

export function headChecksum(head: Omit<SnapshotHead, 'checksum'>): string {
  return sha256(
    JSON.stringify([
      head.format,
      head.schemaVersion,
      head.seq,
      head.hash,
      head.timestamp,
      head.nextId,
      head.chunkIds,
      head.chunkCount,
      head.digest,
    ]),
  )
}

export function encodeChunk(state: ChangeSourcesState, index: number): string {
  const rows: ChunkRow[] = []
  const first = Math.max(1, index * CHUNK_IDS)
  const end = Math.min((index + 1) * CHUNK_IDS, state.nextId)
  for (let id = first; id < end; id++) {
    const changeSource: ChangeSource | undefined = trieGet(state.byId, id)
    if (changeSource !== undefined) rows.push([id, changeSource.name, changeSource.masterid])
  }
  return JSON.stringify(rows)
}

/**
 * Decides, batch by batch on the write path, when to write a snapshot and which chunks it rewrites.
 *
 * It learns whether its last snapshot was stored from the next batch: a batch that starts at or
 * after that snapshot's seq means the append that carried it succeeded; one that starts before
 * means it failed, and the chunks stay dirty.
 */
export class Snapshotter {
  readonly #every: number
  /** The chunk checksums of the stored snapshot; undefined when no trusted snapshot is stored. */
  #stored: string[] | undefined
  readonly #dirty = new Set<number>()
  #pending: { seq: number; checksums: string[] } | undefined

  /**
   * `every`: records between snapshots (0: never). `stored`: the chunk checksums of the snapshot
   * open loaded, with the chunks of the records folded after it marked dirty; without one, the
   * first snapshot writes every chunk (and so overwrites whatever stale chunks are stored).
   */
  constructor(every: number, stored?: { checksums: string[]; dirtyIds: Iterable<number> }) {
    this.#every = every
    this.#stored = stored?.checksums
    for (const id of stored?.dirtyIds ?? []) this.#dirty.add(chunkOf(id))
  }

  /**
   * The snapshot parts to store with `appended` (non-empty, in seq order), whose state after them
   * is `state`; undefined when this batch does not cross a multiple of `every`.
   */
  partsFor(state: ChangeSourcesState, appended: readonly ChangeRecord[]): SnapshotPart[] | undefined {
    if (this.#every === 0) return undefined
    const base = appended[0]!.seq - 1
    if (this.#pending !== undefined) {
      if (base >= this.#pending.seq) {
        this.#stored = this.#pending.checksums
        this.#dirty.clear()
      }
      this.#pending = undefined
    }
    for (const record of appended) this.#dirty.add(chunkOf(record.changesourceid))
    if (Math.floor(base / this.#every) === Math.floor(state.seq / this.#every)) return undefined
    try {
      return this.#snapshot(state, appended[appended.length - 1]!.timestamp)
    } catch {
      // A snapshot is an optimisation: it must never fail a write. The next one rewrites every chunk.
      this.#stored = undefined
      return undefined
    }
  }

  #snapshot(state: ChangeSourcesState, timestamp: number): SnapshotPart[] {
    const chunkCount = chunkCountOf(state.nextId)
    const checksums = this.#stored === undefined ? [] : this.#stored.slice(0, chunkCount)
    const parts: SnapshotPart[] = []
    for (let index = 0; index < chunkCount; index++) {
      if (this.#stored !== undefined && index < this.#stored.length && !this.#dirty.has(index)) continue
      const value = encodeChunk(state, index)
      checksums[index] = sha256(value)
      parts.push({ name: chunkPartName(index), value })
    }
    const unchecked = {
      format: SNAPSHOT_FORMAT,
      schemaVersion: SCHEMA_VERSION,
      seq: state.seq,
      hash: state.hash,
      timestamp,
      nextId: state.nextId,
      chunkIds: CHUNK_IDS,
      chunkCount,
      digest: digestOf(checksums),
    }
    const head: SnapshotHead = { ...unchecked, checksum: headChecksum(unchecked) }
    parts.push({ name: HEAD_PART, value: JSON.stringify(head) })
    this.#pending = { seq: state.seq, checksums }
    return parts
  }
}
