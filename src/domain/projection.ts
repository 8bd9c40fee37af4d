/**
 * The projection: the state folded from the log, and the queries answered from it.
 *
 * Every collection is an IdTrie so that one write copies a few small nodes, never a whole
 * collection (see id-trie.ts), and every filter has its own index so that a query walks only
 * the change sources it returns.
 */
import { emptyTrie, trieForEach, trieGet, type IdTrie } from './id-trie.js'
import { bucketBounds, findInBucket, type NameBucket } from './name-index.js'

/** A change source as the queries return it: a frozen plain object. */
export interface ChangeSource {
  readonly id: number
  readonly name: string
  /** The master that holds the claim, or null when no master does. */
  readonly masterid: number | null
}

export interface ChangeSourcesState {
  /** The seq of the last record folded in; 0 for an empty log. */
  seq: number
  /** The hash of the last record folded in; the chain starts from GENESIS_HASH. */
  hash: string
  /** The id the next registration receives. */
  nextId: number
  indexes: Indexes
}

/**
 * The collections, held together in one object of a class: immer drafts only plain objects and
 * arrays, so to it this is a value, and a batch reads it from the draft once and writes it back
 * once, where four fields of the state would cost a proxy read and write per trie and record.
 */
export class Indexes {
  constructor(
    public byId: IdTrie<ChangeSource>,
    /**
     * Ids bucketed by a hash of their name: the id itself, a short array of ids when names collide
     * (no array per name, which would cost memory and open time per change source), or a
     * tree by a strong hash past a few (name-index.ts), so that names crafted to collide stay cheap.
     * A bucket is checked against byId, so collisions are harmless.
     */
    public idsByNameBucket: IdTrie<NameBucket>,
    public unclaimed: IdTrie<ChangeSource>,
    /**
     * For each master id, the change sources it holds. Together they are the claimed change sources:
     * no index of their own, which would be one more trie to copy a path of on every claim and
     * release.
     */
    public byMaster: IdTrie<IdTrie<ChangeSource>>,
    /** The claim of each claimed change source: who, its token, since when, its lease. */
    public claims: IdTrie<HeldClaim>,
    /** For each master that holds leases: when it last renewed them, and how many it holds. */
    public leaseHolders: IdTrie<LeaseHolder>,
  ) {}
}

/** A claim as the state keeps it (frozen); `Claim` (leases.ts) adds its deadline. */
export interface HeldClaim {
  readonly changesourceid: number
  readonly masterid: number
  /** The fencing token: the seq of the claim's record, so it grows with every claim of the log. */
  readonly token: number
  /** The claim record's timestamp. */
  readonly since: number
  /** The lease's length, or null for a claim without a lease (Buildbot's), which never expires. */
  readonly leaseMs: number | null
}

/** A master holding leases: the timestamp of its last renewal (0 before any) and how many leased claims it holds. */
export interface LeaseHolder {
  readonly masterid: number
  readonly renewedAt: number
  readonly leased: number
}

/** The hash that the first record chains to. */
export const GENESIS_HASH = '0'.repeat(64)

export function initialState(): ChangeSourcesState {
  return {
    seq: 0,
    hash: GENESIS_HASH,
    nextId: 1,
    indexes: new Indexes(emptyTrie(), emptyTrie(), emptyTrie(), emptyTrie(), emptyTrie(), emptyTrie()),
  }
}

// 2^20 buckets: about one name per bucket at a million change sources, so that a lookup (and the
// check of every registration on replay) compares one or two names.
const NAME_BUCKET_MASK = 0xfffff

/** FNV-1a over UTF-16 code units, folded to a bucket number. */
export function nameBucket(name: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) & NAME_BUCKET_MASK
}

export type { NameBucket } from './name-index.js'

export function findIdByName(state: ChangeSourcesState, name: string): number | undefined {
  const { byId, idsByNameBucket } = state.indexes
  const bucket = trieGet(idsByNameBucket, nameBucket(name))
  if (bucket === undefined) return undefined
  // One id, by far the most common bucket, is checked here without a call.
  if (typeof bucket === 'number') return trieGet(byId, bucket)?.name === name ? bucket : undefined
  return findInBucket(bucket, name, (id) => trieGet(byId, id)?.name)
}

/**
 * What bounds the cost of a name lookup and of a registration, whatever names are registered: the
 * most stored names a lookup compares with its own, and the longest array of the name index (a
 * registration copies whole the arrays on its path when the state is frozen). Walks the whole index.
 */
export function nameIndexBounds(state: ChangeSourcesState): { namesCompared: number; longestArray: number } {
  let namesCompared = 0
  let longestArray = 0
  trieForEach(state.indexes.idsByNameBucket, (bucket) => {
    const bounds = bucketBounds(bucket)
    namesCompared = Math.max(namesCompared, bounds.namesCompared)
    longestArray = Math.max(longestArray, bounds.longestArray)
  })
  return { namesCompared, longestArray }
}

export function getChangeSource(state: ChangeSourcesState, id: number): ChangeSource | null {
  return trieGet(state.indexes.byId, id) ?? null
}

export interface ChangeSourcesFilter {
  active?: boolean
  masterid?: number
}

/** Buildbot's filter rules, in its order: see docs/buildbot-differences.md. Results are ordered by id. */
export function getChangeSources(state: ChangeSourcesState, filter: ChangeSourcesFilter = {}): ChangeSource[] {
  const { active, masterid } = filter
  if (masterid !== undefined && active === false) return []
  if (masterid === undefined && active === true) return claimed(state)
  const { byId, unclaimed, byMaster } = state.indexes
  const source = masterid !== undefined ? trieGet(byMaster, masterid) : active === false ? unclaimed : byId
  const result: ChangeSource[] = []
  if (source !== undefined) trieForEach(source, (changeSource) => void result.push(changeSource))
  return result
}

/** Every claimed change source, in id order: each master's, merged. */
function claimed(state: ChangeSourcesState): ChangeSource[] {
  const result: ChangeSource[] = []
  let masters = 0
  trieForEach(state.indexes.byMaster, (held) => {
    masters += 1
    trieForEach(held, (changeSource) => void result.push(changeSource))
  })
  // Runs already in id order, one per master: the sort merges them.
  if (masters > 1) result.sort((a, b) => a.id - b.id)
  return result
}
