/**
 * Snapshots: the projection saved beside the log so that open folds only the records after it,
 * and loads the projection itself lazily, page by page, as reads and writes reach it.
 *
 * The stored parts mirror the projection's tries page by page (a page is PAGE_KEYS = 1024
 * consecutive keys, one level-1 node of a trie), so that a snapshot rewrites only the pages that
 * changed since the last one, and open can hand each page to the state unparsed (restore.ts):
 *
 *   head             {"format":2,"schemaVersion":1,"seq":…,"hash":…,"timestamp":…,"nextId":…,
 *                     "pageKeys":1024,"rowPages":…,"namePages":[page,buckets,page,buckets,…],
 *                     "holders":[[masterid,page,count,page,count,…],…],"digest":…,"checksum":…}
 *   rows!<8 hex>     [shared, suffixes, claims]: the names of the ids page×1024 … page×1024+1023
 *                    that exist, in id order and front-coded (name i is the first shared[i]
 *                    UTF-16 units of name i−1, then suffixes[i]: names registered together share
 *                    long prefixes, and the bytes read on open are most of its cost), and the
 *                    claims among them flat as [id − page×1024, masterid, …]
 *   names!<8 hex>    the name index's non-empty buckets among page×1024 … page×1024+1023, as
 *                    [bucket − page×1024, id or [ids whose names share the bucket], …]
 *
 * Ids run 1 … nextId − 1 without gaps, so every rows page up to `rowPages` exists; only the name
 * pages listed in `namePages` do. `holders` gives, per master, the pages where it holds change
 * sources and how many: the claimed, unclaimed and by-master indexes are derived from the rows
 * pages with it, without storing them; `namePages` likewise gives each name page's count of
 * non-empty buckets. `digest` is the SHA-256 of the pages' own SHA-256s (rows
 * pages in order, then name pages in order), `checksum` the SHA-256 of the head's other fields: a
 * damaged, missing or stale page, or a damaged head, fails the check. The parts are written in the
 * same atomic batch as the record that completes the snapshot (writer.ts asks `partsFor`), so the
 * head and its pages always agree.
 */
import { hash as digest } from 'node:crypto'
import { SCHEMA_VERSION, type ChangeRecord } from './events.js'
import { PAGE_KEYS, trieForEachEntry, trieForEachInPage, triePageSizes } from './id-trie.js'
import type { SnapshotPart } from './log-store.js'
import { nameBucket, type ChangeSourcesState } from './projection.js'

export const SNAPSHOT_FORMAT = 2
export const HEAD_PART = 'head'
export const ROWS_PREFIX = 'rows!'
export const NAMES_PREFIX = 'names!'
/** The prefix of format 1's parts: deleted by the first snapshot written over a format-1 one. */
export const FORMAT_1_CHUNK_PREFIX = 'chunk!'
/** The default of the `snapshotEvery` open option (see docs/log-format.md for the trade-off). */
export const DEFAULT_SNAPSHOT_EVERY = 10_000

export interface SnapshotHead {
  readonly format: number
  readonly schemaVersion: number
  readonly seq: number
  readonly hash: string
  readonly timestamp: number
  readonly nextId: number
  readonly pageKeys: number
  readonly rowPages: number
  readonly namePages: readonly number[]
  readonly holders: readonly (readonly number[])[]
  readonly digest: string
  readonly checksum: string
}

/**
 * A rows page as stored: the names in id order, front-coded (each name is the first `shared[i]`
 * UTF-16 units of the name before it followed by `suffixes[i]`), and the claims as
 * [offset, masterid, …].
 */
export type RowsPage = readonly [shared: readonly number[], suffixes: readonly string[], claims: readonly number[]]

/** A name page as stored: its non-empty buckets as [bucket − page×1024, id or ids, …]. */
export type NamesPage = ReadonlyArray<number | readonly number[]>

export function rowsPartName(page: number): string {
  return ROWS_PREFIX + page.toString(16).padStart(8, '0')
}

export function namesPartName(page: number): string {
  return NAMES_PREFIX + page.toString(16).padStart(8, '0')
}

export function pageOf(key: number): number {
  return Math.floor(key / PAGE_KEYS)
}

/** The number of rows pages a state with this nextId has (ids are 1 … nextId − 1). */
export function rowPageCountOf(nextId: number): number {
  return nextId <= 1 ? 0 : pageOf(nextId - 1) + 1
}

/** The ids a rows page holds: first (inclusive) to end (exclusive). */
export function idsOfPage(page: number, nextId: number): { first: number; end: number } {
  return { first: Math.max(1, page * PAGE_KEYS), end: Math.min((page + 1) * PAGE_KEYS, nextId) }
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
      head.pageKeys,
      head.rowPages,
      head.namePages,
      head.holders,
      head.digest,
    ]),
  )
}

/** The snapshot parts that `record` changes (for the snapshotter's dirty set). */
export function partsChangedBy(record: ChangeRecord, into: Set<string>): void {
  into.add(rowsPartName(pageOf(record.changesourceid)))
  if (record.type === 'ChangeSourceRegistered') into.add(namesPartName(pageOf(nameBucket(record.name))))
}

export function encodeRowsPage(state: ChangeSourcesState, page: number): string {
  const shared: number[] = []
  const suffixes: string[] = []
  const claims: number[] = []
  let previous = ''
  // Ids run without gaps, so the page's entries in key order are its ids in order.
  trieForEachInPage(state.byId, page, (id, { name, masterid }) => {
    const common = commonPrefixLength(previous, name)
    shared.push(common)
    suffixes.push(name.slice(common))
    previous = name
    if (masterid !== null) claims.push(id - page * PAGE_KEYS, masterid)
  })
  return JSON.stringify([shared, suffixes, claims])
}

function commonPrefixLength(a: string, b: string): number {
  const most = Math.min(a.length, b.length)
  let length = 0
  while (length < most && a.charCodeAt(length) === b.charCodeAt(length)) length++
  return length
}

export function encodeNamesPage(state: ChangeSourcesState, page: number): string {
  const buckets: Array<number | readonly number[]> = []
  trieForEachInPage(state.idsByNameBucket, page, (bucket, ids) => void buckets.push(bucket - page * PAGE_KEYS, ids))
  return JSON.stringify(buckets)
}

/** Per master, the pages where it holds change sources and how many: [masterid, page, count, …]. */
export function holdersOf(state: ChangeSourcesState): number[][] {
  const holders: number[][] = []
  trieForEachEntry(state.byMaster, (masterid, held) => void holders.push([masterid, ...triePageSizes(held).flat()]))
  return holders
}

/**
 * Decides, batch by batch on the write path, when to write a snapshot and which pages it rewrites.
 *
 * It learns whether its last snapshot was stored from the next batch: a batch that starts at or
 * after that snapshot's seq means the append that carried it succeeded; one that starts before
 * means it failed, and the pages stay dirty.
 */
export class Snapshotter {
  readonly #every: number
  /** The page checksums of the stored snapshot, by part name; undefined when no trusted snapshot is stored. */
  #stored: ReadonlyMap<string, string> | undefined
  readonly #dirty = new Set<string>()
  #pending: { seq: number; checksums: Map<string, string> } | undefined
  /** Parts of a format-1 snapshot still stored, for the next snapshot to delete. */
  #obsolete: string[]

  /**
   * `every`: records between snapshots (0: never). `stored`: the page checksums of the snapshot
   * open loaded and the parts the records folded after it changed; without one, the first
   * snapshot writes every page (and so overwrites whatever stale pages are stored).
   * `obsoleteParts`: parts of an older format to delete with the first snapshot.
   */
  constructor(every: number, stored?: { checksums: ReadonlyMap<string, string>; dirtyParts: Iterable<string> }, obsoleteParts: readonly string[] = []) {
    this.#every = every
    this.#stored = stored?.checksums
    for (const part of stored?.dirtyParts ?? []) this.#dirty.add(part)
    this.#obsolete = [...obsoleteParts]
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
        this.#obsolete = []
      }
      this.#pending = undefined
    }
    for (const record of appended) partsChangedBy(record, this.#dirty)
    if (Math.floor(base / this.#every) === Math.floor(state.seq / this.#every)) return undefined
    try {
      return this.#snapshot(state, appended[appended.length - 1]!.timestamp)
    } catch {
      // A snapshot is an optimisation: it must never fail a write. The next one rewrites every page.
      this.#stored = undefined
      return undefined
    }
  }

  #snapshot(state: ChangeSourcesState, timestamp: number): SnapshotPart[] {
    const parts: SnapshotPart[] = this.#obsolete.map((name) => ({ name, value: null }))
    const checksums = new Map<string, string>()
    const ordered: string[] = []
    const take = (name: string, encode: () => string): void => {
      let checksum = this.#stored?.get(name)
      if (checksum === undefined || this.#dirty.has(name)) {
        const value = encode()
        checksum = sha256(value)
        parts.push({ name, value })
      }
      checksums.set(name, checksum)
      ordered.push(checksum)
    }
    const rowPages = rowPageCountOf(state.nextId)
    for (let page = 0; page < rowPages; page++) take(rowsPartName(page), () => encodeRowsPage(state, page))
    const namePages = triePageSizes(state.idsByNameBucket)
    for (const [page] of namePages) take(namesPartName(page), () => encodeNamesPage(state, page))
    const unchecked = {
      format: SNAPSHOT_FORMAT,
      schemaVersion: SCHEMA_VERSION,
      seq: state.seq,
      hash: state.hash,
      timestamp,
      nextId: state.nextId,
      pageKeys: PAGE_KEYS,
      rowPages,
      namePages: namePages.flat(),
      holders: holdersOf(state),
      digest: digestOf(ordered),
    }
    const head: SnapshotHead = { ...unchecked, checksum: headChecksum(unchecked) }
    parts.push({ name: HEAD_PART, value: JSON.stringify(head) })
    this.#pending = { seq: state.seq, checksums }
    return parts
  }
}
