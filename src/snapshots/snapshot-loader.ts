/**
 * Reading a stored snapshot back: the head and every page it names, each checked against its
 * checksum and the head against the log, before anything of it is trusted; then the state it
 * holds, with every page lazy (LazyNode in id-trie.ts), parsed when a fold, query or write first
 * reaches it. A snapshot that fails a check is not used, for a reason that says why; the format
 * is described in snapshot.ts, beside its encoder.
 */
import { GENESIS_HASH, Indexes, initialState, type ChangeSource, type ChangeSourcesState, type HeldClaim, type LeaseHolder, type NameBucket } from '../domain/projection.js'
import { SCHEMA_VERSION, type ChangeRecord } from '../domain/events.js'
import { CorruptLogError, messageOf } from '../errors.js'
import { emptyTrie, filteredPage, forEachInLazyPage, freezeFresh, lazyPage, PAGE_KEYS, trieGet, trieOfPages, trieSet, type IdTrie, type LazyNode } from '../domain/id-trie.js'
import { isLeaseLength } from '../domain/validate.js'
import { bucketOfIds } from '../domain/name-index.js'
import type { LogStore } from '../stores/log-store.js'
import { decodeRecord } from '../log/record-codec.js'
import { problemOf } from '../log/log-damage.js'
import { sha256 } from '../sha256.js'
import {
  CLAIMS_PREFIX,
  FORMAT_1_CHUNK_PREFIX,
  HEAD_PART,
  NAME_PAGES,
  NAMES_PREFIX,
  NO_LEASE,
  ROWS_PREFIX,
  SNAPSHOT_FORMAT,
  claimsPartName,
  digestOf,
  headChecksum,
  idsOfPage,
  namesPartName,
  partNamesOf,
  rowPageCountOf,
  rowsPartName,
  storedSnapshotOf,
  type ClaimsPage,
  type NamesPart,
  type RowsPage,
  type SnapshotHead,
  type StoredSnapshot,
} from './snapshot.js'

/**
 * Where a restore stops: after seq `seq`, or at `time`: after the longest prefix of the log whose
 * records are all stamped at or before it (the fold stops at the first record stamped after it).
 * A snapshot past that point is not used.
 */
export type RestoreTarget = { seq: number } | { time: number } | 'head'

export interface LoadedSnapshot {
  state?: ChangeSourcesState
  head?: SnapshotHead
  stored?: StoredSnapshot
  reason?: string
  obsoleteParts?: string[]
}

/**
 * The stored snapshot as a mutable state, when it is whole, agrees with the log and lies before
 * `target`. Every page is read and checked against the digest now (a damaged snapshot is ignored
 * here, never discovered later), but parsed only when a read or a write first reaches it.
 */
export async function loadSnapshot(store: LogStore, target: RestoreTarget, onPageParsed: () => void = () => {}): Promise<LoadedSnapshot> {
  try {
    const head = await readHead(store)
    if (typeof head === 'string') return { reason: head }
    if (!('seq' in head)) return { reason: head.reason, obsoleteParts: head.obsoleteParts }
    const logHead = await store.head()
    if (head.seq > logHead) return { reason: `the snapshot is at seq ${head.seq}, past the end of the log (seq ${logHead})` }
    if (typeof target === 'object' && 'seq' in target && head.seq > target.seq) return { reason: 'the snapshot is after the requested point' }
    if (typeof target === 'object' && 'time' in target && !(await stampedAtOrBefore(store, head.seq, target.time))) {
      return { reason: 'a record up to the snapshot is stamped after the requested time' }
    }
    const logProblem = await checkAgainstLog(store, head)
    if (logProblem !== undefined) return { reason: logProblem }
    const pages = await readPages(store, head)
    if (typeof pages === 'string') return { reason: pages }
    return { state: lazyState(head, pages, onPageParsed), head, stored: storedSnapshotOf(head, pages.checksums), obsoleteParts: pages.unlisted }
  } catch (error) {
    // Reading the snapshot failed: the log still can be read, so the snapshot is simply not used.
    return { reason: `the snapshot could not be read: ${messageOf(error)}` }
  }
}

/**
 * Whether every record from seq 1 to `seq` is stamped at or before `time`: only then is the state
 * at that time at or after the snapshot at `seq` (a clock that stepped back can stamp a record
 * after a later one). A record that does not parse answers no: the fold from seq 1 reports it.
 */
async function stampedAtOrBefore(store: LogStore, seq: number, time: number): Promise<boolean> {
  for await (const entries of store.read({ from: 1, to: seq })) {
    for (const entry of entries) {
      let timestamp: unknown
      try {
        timestamp = (JSON.parse(entry.value) as { timestamp?: unknown }).timestamp
      } catch {
        return false
      }
      if (typeof timestamp !== 'number' || !(timestamp <= time)) return false
    }
  }
  return true
}

/** The head, why there is no usable one, or (for a head of format 1) why and which parts it left. */
async function readHead(store: LogStore): Promise<SnapshotHead | string | { reason: string; obsoleteParts: string[] }> {
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
  if (typeof head !== 'object' || head === null) return 'the snapshot head is not well formed'
  if (head.format === 1) {
    // Format 1 stored rows in chunks of 64 ids; the first snapshot written now deletes them.
    const { chunkCount } = head as unknown as { chunkCount?: unknown }
    const count = Number.isSafeInteger(chunkCount) && (chunkCount as number) >= 0 ? (chunkCount as number) : 0
    const obsoleteParts = Array.from({ length: count }, (_, index) => FORMAT_1_CHUNK_PREFIX + index.toString(16).padStart(8, '0'))
    return { reason: `the snapshot is of format 1, not ${SNAPSHOT_FORMAT}`, obsoleteParts }
  }
  // Before the checksum, which covers other fields in other formats: format 3 kept no claim's token, since or lease.
  if (head.format !== SNAPSHOT_FORMAT) return `the snapshot is of format ${String(head.format)}, not ${SNAPSHOT_FORMAT}`
  if (head.checksum !== headChecksum(head)) return 'the snapshot head fails its checksum'
  if (head.schemaVersion !== SCHEMA_VERSION) return `the snapshot is of schema version ${String(head.schemaVersion)}, not ${SCHEMA_VERSION}`
  if (head.pageKeys !== PAGE_KEYS) return `the snapshot has pages of ${String(head.pageKeys)} keys, not ${PAGE_KEYS}`
  const wellFormed =
    Number.isSafeInteger(head.seq) &&
    head.seq > 0 &&
    Number.isSafeInteger(head.nextId) &&
    head.nextId >= 1 &&
    head.rowPages === rowPageCountOf(head.nextId) &&
    typeof head.hash === 'string' &&
    typeof head.timestamp === 'number' &&
    pagesWellFormed(head.namePages, NAME_PAGES, () => PAGE_KEYS) &&
    Number.isSafeInteger(head.namePagesPerPart) &&
    head.namePagesPerPart >= 1 &&
    head.namePagesPerPart <= NAME_PAGES &&
    (head.namePagesPerPart & (head.namePagesPerPart - 1)) === 0 &&
    Array.isArray(head.holders) &&
    head.holders.every(
      (holder) =>
        Array.isArray(holder) &&
        Number.isSafeInteger(holder[0]) &&
        holder[0]! > 0 &&
        pagesWellFormed(holder.slice(1), head.rowPages, (page) => rowsOn(head, page)),
    ) &&
    claimsPerPage(head).every((claims, page) => claims <= rowsOn(head, page)) &&
    leaseHoldersWellFormed(head)
  return wellFormed ? head : 'the snapshot head is not well formed'
}

/** Whether `leaseHolders` is [masterid, renewedAt, leased, …] by ascending master id, each holding at most the claims `holders` gives it. */
function leaseHoldersWellFormed(head: SnapshotHead): boolean {
  const flat: unknown = head.leaseHolders
  if (!Array.isArray(flat) || flat.length % 3 !== 0) return false
  const held = new Map<number, number>()
  for (const [masterid, ...pages] of head.holders) {
    let count = 0
    for (let index = 1; index < pages.length; index += 2) count += pages[index]!
    held.set(masterid!, count)
  }
  let previous = 0
  for (let index = 0; index < flat.length; index += 3) {
    const [masterid, renewedAt, leased]: unknown[] = flat.slice(index, index + 3)
    if (!Number.isSafeInteger(masterid) || (masterid as number) <= previous) return false
    if (typeof renewedAt !== 'number' || !Number.isFinite(renewedAt)) return false
    if (!Number.isSafeInteger(leased) || (leased as number) < 1 || (leased as number) > (held.get(masterid as number) ?? 0)) return false
    previous = masterid as number
  }
  return true
}

/** Whether `flat` is [page, count, …] with pages ascending below `pageCount` and counts 1 … `most(page)`. */
function pagesWellFormed(flat: unknown, pageCount: number, most: (page: number) => number): boolean {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) return false
  let previous = -1
  for (let index = 0; index < flat.length; index += 2) {
    const page: unknown = flat[index]
    const count: unknown = flat[index + 1]
    if (!Number.isSafeInteger(page) || (page as number) <= previous || (page as number) >= pageCount) return false
    if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > most(page as number)) return false
    previous = page as number
  }
  return true
}

function rowsOn(head: SnapshotHead, page: number): number {
  const { first, end } = idsOfPage(page, head.nextId)
  return end - first
}

/** The change sources claimed on each rows page, summed over the masters. */
function claimsPerPage(head: SnapshotHead): number[] {
  const claims = new Array<number>(head.rowPages).fill(0)
  for (const holder of head.holders) for (let index = 1; index < holder.length; index += 2) claims[holder[index]!]! += holder[index + 1]!
  return claims
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
    return `the log's record at the snapshot's seq ${head.seq} does not decode: ${problemOf(error)}`
  }
  if (record.hash !== head.hash) return `the snapshot's hash is not the log's at seq ${head.seq}`
  if (record.timestamp !== head.timestamp) return `the snapshot's timestamp is not the log's at seq ${head.seq}`
  return undefined
}

/** The parts a head names, as read: rows pages by page, claims pages by page, names parts by part number. */
interface ReadPages {
  readonly rows: readonly string[]
  readonly claims: ReadonlyMap<number, string>
  readonly names: ReadonlyMap<number, string>
  readonly checksums: Map<string, string>
  readonly unlisted: string[]
}

/**
 * Every page the head names, read whole and checked against its digest (not parsed), and the
 * stored pages it does not name (left by a snapshot that was never used: the next one deletes them).
 */
async function readPages(store: LogStore, head: SnapshotHead): Promise<ReadPages | string> {
  const checksums = new Map<string, string>()
  const ordered: string[] = []
  const unlisted: string[] = []
  // Part names sort as their pages do (fixed-width hex), so both lists are walked in one pass.
  const read = async (prefix: string, expected: readonly string[]): Promise<string[] | string> => {
    const values: string[] = []
    for await (const parts of store.readSnapshot(prefix)) {
      for (const part of parts) {
        const wanted = expected[values.length]
        if (wanted === undefined || part.name < wanted) {
          unlisted.push(part.name)
          continue
        }
        if (part.name !== wanted) return `the snapshot part ${wanted} is missing`
        const checksum = sha256(part.value)
        checksums.set(part.name, checksum)
        ordered.push(checksum)
        values.push(part.value)
      }
    }
    return values.length < expected.length ? `the snapshot part ${expected[values.length]} is missing` : values
  }
  const expected = partNamesOf(head)
  const rows = await read(ROWS_PREFIX, expected.rows)
  if (typeof rows === 'string') return rows
  const claims = await read(CLAIMS_PREFIX, expected.claims)
  if (typeof claims === 'string') return claims
  const names = await read(NAMES_PREFIX, expected.names)
  if (typeof names === 'string') return names
  if (digestOf(ordered) !== head.digest) return 'the snapshot pages fail their checksum'
  const byPage = (parts: readonly string[], values: readonly string[]) =>
    new Map(parts.map((part, index) => [Number.parseInt(part.slice(part.indexOf('!') + 1), 16), values[index]!]))
  return { rows, claims: byPage(expected.claims, claims), names: byPage(expected.names, names), checksums, unlisted }
}

/**
 * The state the snapshot holds, with every page lazy: the claims pages become the claims index's
 * pages, the rows pages byId's (their holders read from the claims pages), the unclaimed and
 * by-master indexes are pages filtered from them (sizes from `holders`), and the name pages become
 * the name index's. Building a page parses its stored form once. The lease holders, few, are built now.
 */
function lazyState(head: SnapshotHead, { rows, claims: claimsParts, names }: ReadPages, onPageParsed: () => void): ChangeSourcesState {
  const claims = claimsPerPage(head)
  const leaseHolders = leaseHoldersOf(head)
  const claimPages = new Map([...claimsParts].map(([page, value]) => [page, claimsPage(head, page, claims[page]!, value, leaseHolders, onPageParsed)]))
  const rowPages = rows.map((value, page) => rowsPage(head, page, value, claimPages.get(page), onPageParsed))
  const byMaster = emptyTrie<IdTrie<ChangeSource>>()
  for (const [masterid, ...flat] of head.holders) {
    const pages: Array<[number, LazyNode<ChangeSource>]> = []
    let held = 0
    for (let index = 0; index < flat.length; index += 2) {
      const [page, count] = [flat[index]!, flat[index + 1]!]
      const heldByMaster = (changeSource: ChangeSource) => changeSource.masterid === masterid
      pages.push([page, filteredPage(rowPages[page]!, count, heldByMaster, () => malformed(`holders of master ${masterid}`))])
      held += count
    }
    trieSet(byMaster, masterid!, trieOfPages(held, pages))
  }
  const unclaimedPages: Array<[number, LazyNode<ChangeSource>]> = []
  let claimed = 0
  rowPages.forEach((source, page) => {
    const count = claims[page]!
    const wrongSize = () => malformed(`${claimsPartName(page)} (its claims and the head's holders disagree)`)
    if (rowsOn(head, page) > count) unclaimedPages.push([page, filteredPage(source, rowsOn(head, page) - count, isUnclaimed, wrongSize)])
    claimed += count
  })
  let buckets = 0
  const namePages: Array<[number, LazyNode<NameBucket>]> = []
  const listed = new Map<number, Set<number>>()
  for (let index = 0; index < head.namePages.length; index += 2) {
    const page = head.namePages[index]!
    const part = Math.floor(page / head.namePagesPerPart)
    listed.set(part, (listed.get(part) ?? new Set()).add(page))
  }
  const readers = new Map([...listed].map(([part, pages]) => [part, namesPartReader(part, head.namePagesPerPart, names.get(part)!, pages, onPageParsed)]))
  const byId = trieOfPages(head.nextId - 1, rowPages.entries())
  for (let index = 0; index < head.namePages.length; index += 2) {
    const [page, count] = [head.namePages[index]!, head.namePages[index + 1]!]
    const part = Math.floor(page / head.namePagesPerPart)
    namePages.push([page, namesPage(page, count, part, readers.get(part)!, byId)])
    buckets += count
  }
  const state = initialState()
  state.seq = head.seq
  state.hash = head.hash
  state.nextId = head.nextId
  state.indexes = new Indexes(
    byId,
    trieOfPages(buckets, namePages),
    trieOfPages(head.nextId - 1 - claimed, unclaimedPages),
    byMaster,
    trieOfPages(claimed, claimPages),
    leaseHolders,
  )
  return state
}

function leaseHoldersOf(head: SnapshotHead): IdTrie<LeaseHolder> {
  const holders = emptyTrie<LeaseHolder>()
  const flat = head.leaseHolders
  for (let index = 0; index < flat.length; index += 3) {
    const [masterid, renewedAt, leased] = [flat[index]!, flat[index + 1]!, flat[index + 2]!]
    trieSet(holders, masterid, Object.freeze({ masterid, renewedAt, leased }))
  }
  return holders
}

/**
 * A claims page of the state, of `count` claims (the head's holders). A claim with a lease whose
 * master the head does not list among the lease holders makes the page malformed: a release of it
 * would find no holder to count it down from.
 */
function claimsPage(head: SnapshotHead, page: number, count: number, value: string, leaseHolders: IdTrie<LeaseHolder>, onPageParsed: () => void): LazyNode<HeldClaim> {
  const name = claimsPartName(page)
  const { first, end } = idsOfPage(page, head.nextId)
  return lazyPage(count, (set) => {
    onPageParsed()
    const flat = parsePage<ClaimsPage>(name, value)
    if (!Array.isArray(flat) || flat.length % 5 !== 0) throw malformed(name)
    const base = page * PAGE_KEYS
    let previous = first - 1
    for (let index = 0; index < flat.length; index += 5) {
      const [offset, masterid, token, since, leaseMs]: unknown[] = flat.slice(index, index + 5)
      const changesourceid = base + (offset as number)
      const known =
        Number.isSafeInteger(offset) &&
        changesourceid > previous &&
        changesourceid < end &&
        Number.isSafeInteger(masterid) &&
        (masterid as number) > 0 &&
        Number.isSafeInteger(token) &&
        (token as number) >= 1 &&
        (token as number) <= head.seq &&
        typeof since === 'number' &&
        Number.isFinite(since) &&
        (leaseMs === NO_LEASE || (isLeaseLength(leaseMs) && trieGet(leaseHolders, masterid as number) !== undefined))
      if (!known) throw malformed(name)
      previous = changesourceid
      const claim: HeldClaim = { changesourceid, masterid: masterid as number, token: token as number, since: since as number, leaseMs: leaseMs === NO_LEASE ? null : (leaseMs as number) }
      set(changesourceid, Object.freeze(claim))
    }
  }, () => malformed(`${name} (its claims and the head's holders disagree)`))
}

const isUnclaimed = (changeSource: ChangeSource): boolean => changeSource.masterid === null

// A page that passed the digest was written by this code; one that does not parse as it wrote it
// means the digest collided or the writer has a bug, and no state can be built from it. Found
// during a restore, the restore folds the whole log instead; found by a later read or write, that
// one fails with this error (docs/log-format.md).
const malformedPages = new WeakSet<object>()

/** Whether `error` is a snapshot page found malformed when it was parsed (see malformed). */
export function isMalformedPage(error: unknown): boolean {
  return typeof error === 'object' && error !== null && malformedPages.has(error)
}

function malformed(part: string): CorruptLogError {
  const error = new CorruptLogError(undefined, `the snapshot part ${part} passed its checksum but is not well formed`)
  malformedPages.add(error)
  return error
}

/** A page's stored form parsed, or the error of a malformed page. */
function parsePage<T>(part: string, value: string): T {
  try {
    return JSON.parse(value) as T
  } catch {
    throw malformed(part)
  }
}

/** A rows page of the state: its names from the rows part, its holders from the claims page (none when the page has no claims part). */
function rowsPage(head: SnapshotHead, page: number, value: string, claims: LazyNode<HeldClaim> | undefined, onPageParsed: () => void): LazyNode<ChangeSource> {
  const { first, end } = idsOfPage(page, head.nextId)
  return lazyPage(end - first, (set) => {
    onPageParsed()
    const parsed = parsePage<RowsPage>(rowsPartName(page), value)
    const [shared, suffixes] = Array.isArray(parsed) ? parsed : []
    const count = end - first
    const wellFormed = Array.isArray(shared) && shared.length === count && Array.isArray(suffixes) && suffixes.length === count
    if (!wellFormed) throw malformed(rowsPartName(page))
    const base = page * PAGE_KEYS
    const holders: Array<number | null> = new Array(PAGE_KEYS).fill(null)
    if (claims !== undefined) forEachInLazyPage(claims, (offset, { masterid }) => void (holders[offset] = masterid))
    let previous = ''
    for (let id = first; id < end; id++) {
      const common = shared[id - first]
      const suffix = suffixes[id - first]
      if (typeof suffix !== 'string' || !Number.isSafeInteger(common) || common! < 0 || common! > previous.length) throw malformed(rowsPartName(page))
      const name = common === 0 ? suffix : previous.slice(0, common) + suffix
      previous = name
      set(id, Object.freeze({ id, name, masterid: holders[id - base]! }))
    }
  }, () => malformed(rowsPartName(page)))
}

/**
 * A names part's buckets by page, parsed and checked when a page of it is first built, then kept
 * for its other pages. A bucket on a page that the head does not list makes the part malformed:
 * it would otherwise be dropped without a word.
 */
type NamesPartReader = () => ReadonlyMap<number, ReadonlyArray<[bucket: number, ids: StoredIds]>>
type StoredIds = number | readonly number[]

function namesPartReader(part: number, perPart: number, value: string, listedPages: ReadonlySet<number>, onPageParsed: () => void): NamesPartReader {
  let byPage: Map<number, Array<[number, StoredIds]>> | undefined
  return () => {
    if (byPage !== undefined) return byPage
    const name = namesPartName(part)
    onPageParsed()
    const slots = parsePage<NamesPart>(name, value)
    if (!Array.isArray(slots) || slots.length % 2 !== 0) throw malformed(name)
    const firstBucket = part * perPart * PAGE_KEYS
    const pages = new Map<number, Array<[number, StoredIds]>>()
    let previous = -1
    for (let index = 0; index < slots.length; index += 2) {
      const [offset, bucket] = [slots[index], slots[index + 1]]
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset <= previous || offset >= perPart * PAGE_KEYS) throw malformed(name)
      previous = offset
      let ids: StoredIds
      if (typeof bucket === 'number' && Number.isSafeInteger(bucket) && bucket > 0) ids = bucket
      else if (Array.isArray(bucket) && bucket.length > 1 && bucket.every((id, at) => Number.isSafeInteger(id) && id > (at === 0 ? 0 : bucket[at - 1]!))) ids = bucket
      else throw malformed(name)
      const page = Math.floor((firstBucket + offset) / PAGE_KEYS)
      if (!listedPages.has(page)) throw malformed(name)
      const entries = pages.get(page) ?? []
      entries.push([firstBucket + offset, ids])
      pages.set(page, entries)
    }
    byPage = pages
    return byPage
  }
}

/**
 * A name page of the state. A bucket is stored as its ids, ascending (idsOfBucket); one of more ids
 * than a bucket lists is rebuilt as a tree from their names in `byId`, the snapshot's own rows.
 */
function namesPage(page: number, count: number, part: number, read: NamesPartReader, byId: IdTrie<ChangeSource>): LazyNode<NameBucket> {
  const nameOf = (id: number): string => {
    const changeSource = trieGet(byId, id)
    if (changeSource === undefined) throw malformed(`${namesPartName(part)} (it lists id ${id}, which has no row)`)
    return changeSource.name
  }
  return lazyPage(count, (set) => {
    for (const [bucket, ids] of read().get(page) ?? []) set(bucket, freezeFresh(bucketOfIds(ids, nameOf)))
  }, () => malformed(`${namesPartName(part)} (its count of buckets on page ${page} and the head's disagree)`))
}
