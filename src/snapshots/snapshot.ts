/**
 * Snapshots: the projection saved beside the log so that open folds only the records after it,
 * and loads the projection itself lazily, page by page, as reads and writes reach it.
 *
 * The stored parts mirror the projection's tries page by page (a page is PAGE_KEYS = 1024
 * consecutive keys, one level-1 node of a trie), so that a snapshot rewrites only the pages that
 * changed since the last one, and open can hand each page to the state unparsed (snapshot-loader.ts):
 *
 *   head             {"format":4,"schemaVersion":2,"seq":…,"hash":…,"timestamp":…,"nextId":…,
 *                     "pageKeys":1024,"rowPages":…,"namePages":[page,buckets,page,buckets,…],
 *                     "namePagesPerPart":…,"holders":[[masterid,page,count,page,count,…],…],
 *                     "leaseHolders":[masterid,renewedAt,leased,…],"digest":…,"checksum":…}
 *   rows!<8 hex>     [shared, suffixes]: the names of the ids page×1024 … page×1024+1023 that
 *                    exist, in id order and front-coded (name i is the first shared[i] UTF-16
 *                    units of name i−1, then suffixes[i]: names registered together share long
 *                    prefixes, and the bytes read on open are most of its cost)
 *   claims!<8 hex>   the claims among those ids, by id, flat as [id − page×1024, masterid, token,
 *                    since, leaseMs or 0 for none, …]; only for the pages that have claims
 *   names!<8 hex>    part p holds the name index's pages p×G … p×G+G−1 (G = namePagesPerPart):
 *                    their non-empty buckets, as [bucket − p×G×1024, id or [ids whose names
 *                    share the bucket], …]. G is the power of two that puts about 1,024 buckets
 *                    in a part: 1 at a million names, 256 at 4,000, 1,024 (one part) below
 *                    1,024; a snapshot whose G differs from the stored one rewrites every part.
 *
 * Names and claims are apart because they change at different rates: a name never changes and a
 * rows page changes only when ids are added to it (the last page, in practice), while claims come
 * and go all over the ids: kept together, scattered claims would make every snapshot re-encode and
 * rewrite the names (docs/log-format.md has the formats before this one).
 *
 * Ids run 1 … nextId − 1 without gaps, so every rows page up to `rowPages` exists; only the claims
 * pages that `holders` names and the names parts that hold the pages listed in `namePages` do.
 * `holders` gives, per master, the pages where it holds change sources and how many: the unclaimed
 * and by-master indexes are derived from the rows and claims pages with it, without storing them;
 * `namePages` likewise gives each name page's count of non-empty buckets. `leaseHolders` is the
 * state's lease holders whole, by master id: one entry per master holding leases, so it stays small
 * and lives in the head, which every snapshot rewrites (a renewal dirties no page). `digest` is the SHA-256
 * of the parts' own SHA-256s (rows pages in order, then claims pages, then names parts: partNamesOf), and
 * `checksum` the SHA-256 of the head's other fields: a damaged, missing or
 * stale page, or a damaged head, fails the check. A snapshot's head and pages are stored in one
 * atomic write of their own, in the background (Snapshotter, below), so they always agree; it is
 * used only when it agrees with the log's record at its seq (snapshot-loader.ts).
 */
import { SCHEMA_VERSION } from '../domain/events.js'
import { sha256 } from '../sha256.js'
import { PAGE_KEYS, trieForEach, trieForEachInPage, triePages } from '../domain/id-trie.js'
import type { SnapshotPart } from '../stores/log-store.js'
import { idsOfBucket } from '../domain/name-index.js'
import type { ChangeSourcesState } from '../domain/projection.js'

export const SNAPSHOT_FORMAT = 4
export const HEAD_PART = 'head'
export const ROWS_PREFIX = 'rows!'
export const CLAIMS_PREFIX = 'claims!'
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
  readonly namePagesPerPart: number
  readonly holders: readonly (readonly number[])[]
  /** The lease holders, flat as [masterid, renewedAt, leased, …] by master id. */
  readonly leaseHolders: readonly number[]
  readonly digest: string
  readonly checksum: string
}

/**
 * A rows page as stored: the names in id order, front-coded (each name is the first `shared[i]`
 * UTF-16 units of the name before it followed by `suffixes[i]`).
 */
export type RowsPage = readonly [shared: readonly number[], suffixes: readonly string[]]

/** A claims page as stored: the page's claims as [id − page×1024, masterid, token, since, leaseMs or 0, …], by id. */
export type ClaimsPage = readonly number[]

/** A names part as stored: the non-empty buckets of its pages as [bucket − first bucket of the part, id or ids, …]. */
export type NamesPart = ReadonlyArray<number | readonly number[]>

/** The name index's pages: 2^20 buckets (projection.ts), 1,024 pages of PAGE_KEYS. */
export const NAME_PAGES = 1024

/**
 * Name pages per names part: the power of two that puts about PAGE_KEYS buckets in a part. Names
 * hash all over the index, so a few thousand of them leave ~1,000 pages with a few buckets each:
 * a part per page would make a small registry's snapshot ~1,000 tiny parts, most of them
 * rewritten by any burst of registrations.
 */
function namePagesPerPartFor(buckets: number): number {
  let perPart = NAME_PAGES
  while (perPart > 1 && (buckets * perPart) / NAME_PAGES > PAGE_KEYS) perPart /= 2
  return perPart
}

// The pages that records change are named by these (page-changes.ts): each name is built once and
// then reused, which spares a string and its hashing per record.
const rowsPartNames: string[] = []
const claimsPartNames: string[] = []
const namesPartNames: string[] = []

export function rowsPartName(page: number): string {
  return (rowsPartNames[page] ??= ROWS_PREFIX + page.toString(16).padStart(8, '0'))
}

export function claimsPartName(page: number): string {
  return (claimsPartNames[page] ??= CLAIMS_PREFIX + page.toString(16).padStart(8, '0'))
}

/** The name of names part `part` (see namePagesPerPartFor). */
export function namesPartName(part: number): string {
  return (namesPartNames[part] ??= NAMES_PREFIX + part.toString(16).padStart(8, '0'))
}

/**
 * The dirty set's key for name page `page`. Not a part name: the part a page belongs to depends on
 * the snapshot's namePagesPerPart, which a record cannot know.
 */
export function namePageKey(page: number): string {
  return (namePageKeys[page] ??= NAME_PAGE_KEY_PREFIX + page.toString(16).padStart(8, '0'))
}
const NAME_PAGE_KEY_PREFIX = 'name page '
const namePageKeys: string[] = []

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
      head.namePagesPerPart,
      head.holders,
      head.leaseHolders,
      head.digest,
    ]),
  )
}

/** The names of the parts a head names, in the order of its digest: rows pages, claims pages, names parts. */
export function partNamesOf(head: Pick<SnapshotHead, 'rowPages' | 'holders' | 'namePages' | 'namePagesPerPart'>): { rows: string[]; claims: string[]; names: string[] } {
  const nameParts = new Set<number>()
  for (let index = 0; index < head.namePages.length; index += 2) nameParts.add(Math.floor(head.namePages[index]! / head.namePagesPerPart))
  return {
    rows: Array.from({ length: head.rowPages }, (_, page) => rowsPartName(page)),
    claims: claimedPagesOf(head.holders).map(claimsPartName),
    names: [...nameParts].sort((a, b) => a - b).map(namesPartName),
  }
}

/** The rows pages where some master holds change sources, ascending. */
function claimedPagesOf(holders: SnapshotHead['holders']): number[] {
  const pages = new Set<number>()
  for (const holder of holders) for (let index = 1; index < holder.length; index += 2) pages.add(holder[index]!)
  return [...pages].sort((a, b) => a - b)
}

/** A rows page's stored form: its names. */
function encodeRowsPage(state: ChangeSourcesState, page: number): string {
  const shared: number[] = []
  const suffixes: string[] = []
  let previous = ''
  // Ids run without gaps, so the page's entries in key order are its ids in order.
  trieForEachInPage(state.indexes.byId, page, (_id, { name }) => {
    const common = commonPrefixLength(previous, name)
    shared.push(common)
    suffixes.push(name.slice(common))
    previous = name
  })
  return JSON.stringify([shared, suffixes])
}

/**
 * A claims page's stored form (undefined when no change source of the page is claimed), and its
 * claims per master as [masterid, count, …] by master id. Read from the claims index, which holds
 * only the claimed change sources: the cost is in proportion to the page's claims.
 */
export function encodeClaimsPage(state: ChangeSourcesState, page: number): { value: string | undefined; claimsByMaster: number[] } {
  const claims: number[] = []
  const held = new Map<number, number>()
  const base = page * PAGE_KEYS
  trieForEachInPage(state.indexes.claims, page, (id, { masterid, token, since, leaseMs }) => {
    claims.push(id - base, masterid, token, since, leaseMs ?? NO_LEASE)
    held.set(masterid, (held.get(masterid) ?? 0) + 1)
  })
  const claimsByMaster = [...held].sort(([a], [b]) => a - b).flat()
  return { value: claims.length === 0 ? undefined : JSON.stringify(claims), claimsByMaster }
}

/** A claims page's leaseMs for a claim without a lease: a lease lasts 1 ms at least (validate.ts). */
export const NO_LEASE = 0

/** The state's lease holders as the head stores them: [masterid, renewedAt, leased, …] by master id. */
function encodeLeaseHolders(state: ChangeSourcesState): number[] {
  const flat: number[] = []
  trieForEach(state.indexes.leaseHolders, ({ masterid, renewedAt, leased }) => void flat.push(masterid, renewedAt, leased))
  return flat
}

function commonPrefixLength(a: string, b: string): number {
  const most = Math.min(a.length, b.length)
  let length = 0
  while (length < most && a.charCodeAt(length) === b.charCodeAt(length)) length++
  return length
}

/** Names part `part`'s stored form (undefined when its pages hold no bucket), and its pages' counts of buckets. */
function encodeNamesPart(state: ChangeSourcesState, part: number, perPart: number): { value: string | undefined; buckets: Map<number, number> } {
  const entries: Array<number | readonly number[]> = []
  const buckets = new Map<number, number>()
  const firstBucket = part * perPart * PAGE_KEYS
  for (let page = part * perPart; page < (part + 1) * perPart; page++) {
    const before = entries.length
    trieForEachInPage(state.indexes.idsByNameBucket, page, (bucket, ids) => void entries.push(bucket - firstBucket, idsOfBucket(ids)))
    if (entries.length > before) buckets.set(page, (entries.length - before) / 2)
  }
  return { value: entries.length === 0 ? undefined : JSON.stringify(entries), buckets }
}

/**
 * What a writer knows of the snapshot stored, so that the next one rewrites only the pages that
 * changed and counts only what they hold: each page's checksum, each rows page's claims per master,
 * and each name page's count of buckets (the head's `holders` and `namePages`, by page).
 */
export interface StoredSnapshot {
  readonly checksums: ReadonlyMap<string, string>
  /** Rows page → [masterid, count, …], by master id; absent for a page without claims. */
  readonly claims: ReadonlyMap<number, readonly number[]>
  /** Name page → its non-empty buckets; only the pages that hold some. */
  readonly buckets: ReadonlyMap<number, number>
  /** The head's namePagesPerPart. */
  readonly namePagesPerPart: number
}

/** What `head` says of its pages, with their checksums as read. */
export function storedSnapshotOf(head: SnapshotHead, checksums: ReadonlyMap<string, string>): StoredSnapshot {
  const claims = new Map<number, number[]>()
  for (const [masterid, ...pages] of head.holders) {
    for (let index = 0; index < pages.length; index += 2) {
      const page = pages[index]!
      claims.set(page, [...(claims.get(page) ?? []), masterid!, pages[index + 1]!])
    }
  }
  // Masters were visited in id order, so each page's list is by master id already.
  const buckets = new Map<number, number>()
  for (let index = 0; index < head.namePages.length; index += 2) buckets.set(head.namePages[index]!, head.namePages[index + 1]!)
  return { checksums, claims, buckets, namePagesPerPart: head.namePagesPerPart }
}

/** The parts of one snapshot, and what the writer then knows is stored. */
export interface EncodedSnapshot {
  readonly parts: SnapshotPart[]
  readonly stored: StoredSnapshot
}

/**
 * Encodes the snapshot of `state` (whose last record is stamped `timestamp`): every page that
 * `stored` does not hold or that is in `dirty`, then the head. The head's counts come from the
 * pages encoded and, for the others, from `stored`: no work in proportion to the whole state. Yields
 * to the event loop whenever it has worked `sliceMs` in a row, so that writes and reads go on
 * meanwhile; the state is a persistent value, so what it encodes does not move under it.
 */
export async function encodeSnapshot(
  state: ChangeSourcesState,
  timestamp: number,
  stored: StoredSnapshot | undefined,
  dirty: ReadonlySet<string>,
  sliceMs = Number.POSITIVE_INFINITY,
): Promise<EncodedSnapshot> {
  const parts: SnapshotPart[] = []
  const checksums = new Map<string, string>()
  const claims = new Map<number, readonly number[]>()
  const buckets = new Map<number, number>()
  const ordered: string[] = []
  let sliceStart = performance.now()
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStart < sliceMs) return
    await new Promise((resolve) => setImmediate(resolve))
    sliceStart = performance.now()
  }
  const keep = (name: string, value: string | undefined): void => {
    const checksum = value === undefined ? stored!.checksums.get(name)! : sha256(value)
    // A part encoded as it is stored (changed and changed back between two snapshots that came due
    // together, or taken as changed by page: page-changes.ts) is not written again. Each key
    // written costs the store, and LevelDB more: a snapshot key among the log's newest records
    // makes it merge them with older tables (docs/benchmarks.md).
    if (value !== undefined && stored?.checksums.get(name) !== checksum) parts.push({ name, value })
    checksums.set(name, checksum)
    ordered.push(checksum)
  }
  const isStored = (name: string): boolean => stored?.checksums.has(name) === true && !dirty.has(name)

  const rowPages = rowPageCountOf(state.nextId)
  for (let page = 0; page < rowPages; page++) {
    const name = rowsPartName(page)
    if (isStored(name)) keep(name, undefined)
    else {
      keep(name, encodeRowsPage(state, page))
      await pause()
    }
  }
  for (let page = 0; page < rowPages; page++) {
    const name = claimsPartName(page)
    // A page's claims change only by claims and releases, which make it dirty.
    if (stored !== undefined && !dirty.has(name)) {
      if (stored.checksums.has(name)) {
        keep(name, undefined)
        claims.set(page, stored.claims.get(page)!)
      }
      continue
    }
    const { value, claimsByMaster } = encodeClaimsPage(state, page)
    if (value !== undefined) {
      keep(name, value)
      claims.set(page, claimsByMaster)
    }
    await pause()
  }
  // A name page comes to hold buckets only by a registration, which makes it dirty: the parts to
  // write are those that hold a dirty page, or all of them when there is no stored snapshot or
  // its parts are grouped otherwise; the others are kept as stored.
  const perPart = namePagesPerPartFor(state.indexes.idsByNameBucket.size)
  const rewriteAll = stored === undefined || stored.namePagesPerPart !== perPart
  const namePages = rewriteAll ? triePages(state.indexes.idsByNameBucket) : [...stored.buckets.keys(), ...pagesOf(dirty, NAME_PAGE_KEY_PREFIX)]
  const dirtyNameParts = new Set(rewriteAll ? [] : pagesOf(dirty, NAME_PAGE_KEY_PREFIX).map((page) => Math.floor(page / perPart)))
  for (const part of [...new Set(namePages.map((page) => Math.floor(page / perPart)))].sort((a, b) => a - b)) {
    const name = namesPartName(part)
    if (!rewriteAll && !dirtyNameParts.has(part)) {
      keep(name, undefined)
      for (let page = part * perPart; page < (part + 1) * perPart; page++) {
        const count = stored.buckets.get(page)
        if (count !== undefined) buckets.set(page, count)
      }
      continue
    }
    const encoded = encodeNamesPart(state, part, perPart)
    // A trie that grew from empty keeps its first, empty root as a node: not a page that holds names.
    if (encoded.value === undefined) continue
    keep(name, encoded.value)
    for (const [page, count] of encoded.buckets) buckets.set(page, count)
    await pause()
  }
  // Stored parts this snapshot does not hold (a claims page whose last claim was released, names
  // parts grouped otherwise) go with it.
  for (const name of stored?.checksums.keys() ?? []) if (!checksums.has(name)) parts.push({ name, value: null })
  const holders = new Map<number, number[]>()
  for (const [page, held] of claims) {
    for (let index = 0; index < held.length; index += 2) {
      const masterid = held[index]!
      const pages = holders.get(masterid) ?? []
      pages.push(page, held[index + 1]!)
      holders.set(masterid, pages)
    }
  }
  const unchecked = {
    format: SNAPSHOT_FORMAT,
    schemaVersion: SCHEMA_VERSION,
    seq: state.seq,
    hash: state.hash,
    timestamp,
    nextId: state.nextId,
    pageKeys: PAGE_KEYS,
    rowPages,
    namePages: [...buckets].sort(([a], [b]) => a - b).flat(),
    namePagesPerPart: perPart,
    holders: [...holders].sort(([a], [b]) => a - b).map(([masterid, pages]) => [masterid, ...pages]),
    leaseHolders: encodeLeaseHolders(state),
    digest: digestOf(ordered),
  }
  const head: SnapshotHead = { ...unchecked, checksum: headChecksum(unchecked) }
  parts.push({ name: HEAD_PART, value: JSON.stringify(head) })
  return { parts, stored: { checksums, claims, buckets, namePagesPerPart: perPart } }
}

/** The page numbers of the parts in `names` that start with `prefix`. */
function pagesOf(names: Iterable<string>, prefix: string): number[] {
  const pages: number[] = []
  for (const name of names) if (name.startsWith(prefix)) pages.push(Number.parseInt(name.slice(prefix.length), 16))
  return pages
}
