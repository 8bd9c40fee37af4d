/**
 * A radix trie keyed by non-negative integers, with 32-way nodes.
 *
 * Why not a Map: immer copies a drafted Map or object whole on its first write in a `produce`, so a
 * flat collection of a million entries costs tens of milliseconds per write. In this trie a write
 * copies only the nodes on one root-to-leaf path (a handful of 32-slot arrays), whatever the size.
 *
 * The functions below only read or mutate in place, so the same code runs on an immer draft (where
 * the mutations become a structurally shared copy) and on a plain unfrozen trie during replay.
 */

const BITS = 5
const WIDTH = 1 << BITS
const MASK = WIDTH - 1

type TrieNode<T> = Array<TrieNode<T> | T | undefined>

export interface IdTrie<T> {
  /** Number of keys present. */
  size: number
  /** Levels of nodes below the root; keys up to WIDTH ** depth - 1 fit. */
  depth: number
  root: TrieNode<T>
}

export function emptyTrie<T>(): IdTrie<T> {
  return { size: 0, depth: 1, root: newNode() }
}

function newNode<T>(): TrieNode<T> {
  return new Array(WIDTH).fill(undefined)
}

// Integer division instead of bit shifts: keys go up to Number.MAX_SAFE_INTEGER, past 32 bits.
function slotAt(key: number, level: number): number {
  return Math.floor(key / WIDTH ** level) & MASK
}

export function trieGet<T>(trie: IdTrie<T>, key: number): T | undefined {
  if (key >= WIDTH ** trie.depth) return undefined
  let node: TrieNode<T> | undefined = trie.root
  for (let level = trie.depth - 1; level > 0; level--) {
    node = node[slotAt(key, level)] as TrieNode<T> | undefined
    if (node === undefined) return undefined
  }
  return node[key & MASK] as T | undefined
}

export function trieSet<T>(trie: IdTrie<T>, key: number, value: T): void {
  while (key >= WIDTH ** trie.depth) {
    const root = newNode<T>()
    root[0] = trie.root
    trie.root = root
    trie.depth += 1
  }
  let node = trie.root
  for (let level = trie.depth - 1; level > 0; level--) {
    const slot = slotAt(key, level)
    let child = node[slot] as TrieNode<T> | undefined
    if (child === undefined) {
      child = newNode<T>()
      node[slot] = child
      // Re-read through the parent: on an immer draft the assigned child comes back as a draft.
      child = node[slot] as TrieNode<T>
    }
    node = child
  }
  if (node[key & MASK] === undefined) trie.size += 1
  node[key & MASK] = value
}

export function trieDelete<T>(trie: IdTrie<T>, key: number): void {
  if (key >= WIDTH ** trie.depth) return
  const path: Array<TrieNode<T>> = [trie.root]
  let node = trie.root
  for (let level = trie.depth - 1; level > 0; level--) {
    const child = node[slotAt(key, level)] as TrieNode<T> | undefined
    if (child === undefined) return
    node = child
    path.push(node)
  }
  if (node[key & MASK] === undefined) return
  node[key & MASK] = undefined
  trie.size -= 1
  // Prune emptied nodes so that walking a sparse trie costs in proportion to what it holds.
  for (let level = 1; level < trie.depth; level++) {
    const emptied = path[path.length - level]!
    if (emptied.some((slot) => slot !== undefined)) break
    path[path.length - level - 1]![slotAt(key, level)] = undefined
  }
}

/** Calls `visit` for every value, in ascending key order. Costs in proportion to the values present. */
export function trieForEach<T>(trie: IdTrie<T>, visit: (value: T) => void): void {
  if (trie.size > 0) walk(trie.root, trie.depth - 1, visit)
}

function walk<T>(node: TrieNode<T>, level: number, visit: (value: T) => void): void {
  for (let slot = 0; slot < WIDTH; slot++) {
    const child = node[slot]
    if (child === undefined) continue
    if (level === 0) visit(child as T)
    else walk(child as TrieNode<T>, level - 1, visit)
  }
}
