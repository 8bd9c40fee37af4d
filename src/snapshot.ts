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
import type { LogStore, SnapshotPart } from './log-store.js'
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

/** The parts of one snapshot and the page checksums it leaves stored. */
export interface EncodedSnapshot {
  readonly parts: SnapshotPart[]
  readonly checksums: Map<string, string>
}

/**
 * Encodes the snapshot of `state` (whose last record is stamped `timestamp`): every page not in
 * `stored` (page → checksum of what is stored) or in `dirty`, then the head. Yields to the event
 * loop whenever it has worked `sliceMs` in a row, so that writes and reads go on meanwhile; the
 * state is a persistent value, so what it encodes does not move under it.
 */
export async function encodeSnapshot(
  state: ChangeSourcesState,
  timestamp: number,
  stored: ReadonlyMap<string, string> | undefined,
  dirty: ReadonlySet<string>,
  sliceMs = Number.POSITIVE_INFINITY,
): Promise<EncodedSnapshot> {
  const parts: SnapshotPart[] = []
  const checksums = new Map<string, string>()
  const ordered: string[] = []
  let sliceStart = performance.now()
  const take = async (name: string, encode: () => string): Promise<void> => {
    let checksum = stored?.get(name)
    if (checksum === undefined || dirty.has(name)) {
      const value = encode()
      checksum = sha256(value)
      parts.push({ name, value })
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise((resolve) => setImmediate(resolve))
        sliceStart = performance.now()
      }
    }
    checksums.set(name, checksum)
    ordered.push(checksum)
  }
  const rowPages = rowPageCountOf(state.nextId)
  for (let page = 0; page < rowPages; page++) await take(rowsPartName(page), () => encodeRowsPage(state, page))
  const namePages = triePageSizes(state.idsByNameBucket)
  for (const [page] of namePages) await take(namesPartName(page), () => encodeNamesPage(state, page))
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
  return { parts, checksums }
}

// Encoding works at most this long before it lets the event loop run writes and reads.
const SLICE_MS = 4

/**
 * Writes a snapshot every `every` records, in the background: the writer tells it of each
 * committed batch, and when a batch crosses a multiple of `every` it encodes the state after that
 * batch in slices between other work and stores it with one atomic write of its own. A write is
 * never slowed by more than a slice, and never fails because of a snapshot: one that cannot be
 * encoded or stored is simply missing, and the next one rewrites every page.
 */
export class Snapshotter {
  readonly #store: Pick<LogStore, 'writeSnapshot'>
  readonly #every: number
  /** The page checksums of the stored snapshot; undefined when no trusted snapshot is stored. */
  #stored: ReadonlyMap<string, string> | undefined
  /** Pages changed since the stored snapshot (or since the one being written). */
  #dirty = new Set<string>()
  /** Parts of a format-1 snapshot still stored, for the next snapshot to delete. */
  #obsolete: string[]
  #writing: Promise<void> | undefined
  /** The newest snapshot that came due while another was being written, with the pages changed before it. */
  #due: Due | undefined

  /**
   * `every`: records between snapshots (0: never). `stored`: the page checksums of the snapshot
   * open loaded and the parts the records folded after it changed; without one, the first
   * snapshot writes every page (and so overwrites whatever stale pages are stored).
   * `obsoleteParts`: parts of an older format to delete with the first snapshot.
   */
  constructor(
    store: Pick<LogStore, 'writeSnapshot'>,
    every: number,
    stored?: { checksums: ReadonlyMap<string, string>; dirtyParts: Iterable<string> },
    obsoleteParts: readonly string[] = [],
  ) {
    this.#store = store
    this.#every = every
    this.#stored = stored?.checksums
    for (const part of stored?.dirtyParts ?? []) this.#dirty.add(part)
    this.#obsolete = [...obsoleteParts]
  }

  /** The writer's report of a stored batch: `appended` (non-empty, in seq order), leaving `state`. */
  committed(state: ChangeSourcesState, appended: readonly ChangeRecord[]): void {
    if (this.#every === 0) return
    for (const record of appended) partsChangedBy(record, this.#dirty)
    const before = appended[0]!.seq - 1
    if (Math.floor(before / this.#every) === Math.floor(state.seq / this.#every)) return
    // The pages changed up to this state belong to its snapshot, taken now: those changed after it
    // must stay dirty for the next one, or a page would be stored as of an older state.
    let dirty = this.#dirty
    this.#dirty = new Set()
    if (this.#due !== undefined) dirty = new Set([...this.#due.dirty, ...dirty])
    const due: Due = { state, timestamp: appended[appended.length - 1]!.timestamp, dirty }
    if (this.#writing !== undefined) this.#due = due
    else this.#writing = this.#write(due)
  }

  /** Resolves once no snapshot is being written (close waits for it, so that one that is due is kept). */
  async settled(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing
  }

  async #write({ state, timestamp, dirty }: Due): Promise<void> {
    // Out of the writer's way: the batch that made this snapshot due settles its callers first.
    await new Promise((resolve) => setImmediate(resolve))
    try {
      const { parts, checksums } = await encodeSnapshot(state, timestamp, this.#stored, dirty, SLICE_MS)
      await this.#store.writeSnapshot([...this.#obsolete.map((name) => ({ name, value: null })), ...parts])
      this.#stored = checksums
      this.#obsolete = []
    } catch {
      // An optimisation must never fail a write: the next snapshot rewrites every page.
      this.#stored = undefined
    }
    const next = this.#due
    this.#due = undefined
    this.#writing = next === undefined ? undefined : this.#write(next)
  }
}

interface Due {
  readonly state: ChangeSourcesState
  readonly timestamp: number
  readonly dirty: ReadonlySet<string>
}
