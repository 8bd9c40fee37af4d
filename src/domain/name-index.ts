/**
 * A bucket of the name index (projection.ts): the ids whose names share a bucket number, and how a
 * name is found among them and an id added to them.
 *
 * A bucket number is a 20-bit FNV-1a hash, which anyone who chooses names (configuration, hook
 * payloads) can make collide at will. So a bucket lists at most LISTED_IDS_MOST ids; past that it
 * becomes a NameTree, a persistent 16-way trie keyed by the first 48 bits of the SHA-256 of each
 * name. Many names sharing 48 bits of SHA-256 cannot be found (k of them cost ~2^(48(k−1)/k)
 * hashes), so a lookup walks at most 12 nodes and compares a name or two, and a registration copies
 * at most 12 nodes of 16 slots: whatever names are registered.
 *
 * Copy-on-write as in id-trie.ts: a frozen array or tree is copied before it is changed, an
 * unfrozen one (replay's private state, or a copy made earlier in the same write) is changed in place.
 */
import { sha256 } from '../sha256.js'
import { created, writable } from './id-trie.js'

/** The ids whose names share a bucket number: one id, a short list of ids, or a NameTree. */
export type NameBucket = number | number[] | NameTree

/** The most ids a bucket lists, and so the most names a lookup compares, before it becomes a NameTree. */
const LISTED_IDS_MOST = 8

/** The SHA-256 hex digits that key a NameTree (48 bits), one per level. */
const TREE_LEVELS = 12
const TREE_WIDTH = 16

/**
 * A node: per slot, nothing, an id, or a child node; at the last level, an id or the ids whose names
 * share all 48 bits (a list, checked name by name).
 */
type TreeNode = Array<TreeNode | number | undefined>

/** A class so that immer takes it as a value (see id-trie.ts): it copies it itself. */
class NameTree {
  constructor(public root: TreeNode) {}
}

/** The name of a registered id. */
type NameOf = (id: number) => string

/** The name of an id, or undefined when none is registered under it (a lookup then simply does not match it). */
type NameIfAny = (id: number) => string | undefined

function slotOf(digest: string, level: number): number {
  const code = digest.charCodeAt(level)
  // Lower-case hex: '0'–'9' are 48–57, 'a'–'f' 97–102.
  return code <= 57 ? code - 48 : code - 87
}

/** The id in `bucket` whose name is `name`, if any. */
export function findInBucket(bucket: NameBucket, name: string, nameOf: NameIfAny): number | undefined {
  if (typeof bucket === 'number') return nameOf(bucket) === name ? bucket : undefined
  if (Array.isArray(bucket)) return bucket.find((id) => nameOf(id) === name)
  const digest = sha256(name)
  let node = bucket.root
  for (let level = 0; level < TREE_LEVELS; level++) {
    const slot = node[slotOf(digest, level)]
    if (slot === undefined) return undefined
    if (typeof slot === 'number') return nameOf(slot) === name ? slot : undefined
    if (level === TREE_LEVELS - 1) return (slot as number[]).find((id) => nameOf(id) === name)
    node = slot
  }
  return undefined
}

/**
 * `bucket` (undefined: no bucket yet) with `id` added, `nameOf(id)` being a name it does not hold.
 * The result is `bucket` itself when that was writable; the caller stores it in the index when not.
 */
export function bucketWith(bucket: NameBucket | undefined, id: number, nameOf: NameOf): NameBucket {
  if (bucket === undefined) return id
  if (typeof bucket === 'number') return created([bucket, id])
  if (Array.isArray(bucket)) {
    if (bucket.length < LISTED_IDS_MOST) {
      const own = writable(bucket)
      own.push(id)
      return own
    }
    const tree = created(new NameTree(created(new Array(TREE_WIDTH).fill(undefined))))
    for (const listed of bucket) addToTree(tree, listed, nameOf)
    addToTree(tree, id, nameOf)
    return tree
  }
  const tree = Object.isFrozen(bucket) ? created(new NameTree(bucket.root)) : bucket
  addToTree(tree, id, nameOf)
  return tree
}

/** Adds `id` to `tree`, which must be writable; its nodes are copied as needed. */
function addToTree(tree: NameTree, id: number, nameOf: NameOf): void {
  const digest = sha256(nameOf(id))
  const root = writable(tree.root)
  if (root !== tree.root) tree.root = root
  let node = root
  for (let level = 0; ; level++) {
    const slot = slotOf(digest, level)
    const present = node[slot]
    if (present === undefined) {
      node[slot] = id
      return
    }
    if (level === TREE_LEVELS - 1) {
      // Names that share 48 bits of SHA-256: a list, as short as such names are rare.
      const own = typeof present === 'number' ? created([present]) : writable(present as number[])
      own.push(id)
      if (own !== present) node[slot] = own
      return
    }
    if (typeof present === 'number') {
      // The id there moves one level down, and the walk goes on from there.
      const child: TreeNode = created(new Array(TREE_WIDTH).fill(undefined))
      child[slotOf(sha256(nameOf(present)), level + 1)] = present
      node[slot] = child
      node = child
      continue
    }
    const child = writable(present)
    if (child !== present) node[slot] = child
    node = child
  }
}

/** The ids of `bucket`, ascending: the stored form of a bucket (snapshot.ts). */
export function idsOfBucket(bucket: NameBucket): number | number[] {
  if (!(bucket instanceof NameTree)) return bucket
  const ids: number[] = []
  const visit = (node: TreeNode): void => {
    for (const slot of node) {
      if (typeof slot === 'number') ids.push(slot)
      else if (slot !== undefined) visit(slot)
    }
  }
  visit(bucket.root)
  return ids.sort((a, b) => a - b)
}

/** The bucket of `ids` (ascending, distinct, as idsOfBucket gives them), built unfrozen. */
export function bucketOfIds(ids: number | readonly number[], nameOf: NameOf): NameBucket {
  if (typeof ids === 'number') return ids
  if (ids.length <= LISTED_IDS_MOST) return [...ids]
  const tree = new NameTree(new Array(TREE_WIDTH).fill(undefined))
  for (const id of ids) addToTree(tree, id, nameOf)
  return tree
}

/** The most names a lookup in `bucket` compares, and its longest array (which a registration may copy whole). */
export function bucketBounds(bucket: NameBucket): { namesCompared: number; longestArray: number } {
  if (typeof bucket === 'number') return { namesCompared: 1, longestArray: 0 }
  if (Array.isArray(bucket)) return { namesCompared: bucket.length, longestArray: bucket.length }
  let namesCompared = 1
  let longestArray = 0
  const visit = (node: TreeNode, level: number): void => {
    longestArray = Math.max(longestArray, node.length)
    for (const slot of node) {
      if (slot === undefined || typeof slot === 'number') continue
      if (level === TREE_LEVELS - 1) {
        namesCompared = Math.max(namesCompared, slot.length)
        longestArray = Math.max(longestArray, slot.length)
      } else visit(slot, level + 1)
    }
  }
  visit(bucket.root, 0)
  return { namesCompared, longestArray }
}
