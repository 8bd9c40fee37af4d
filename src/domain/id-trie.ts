/**
 * A radix trie keyed by non-negative integers, with 32-way nodes.
 *
 * Why not a Map: immer copies a drafted Map or object whole on its first write in a `produce`, so a
 * flat collection of a million entries costs tens of milliseconds per write. In this trie a write
 * copies only the nodes on one root-to-leaf path (a handful of 32-slot arrays), whatever the size.
 *
 * Why a class: immer drafts plain objects and arrays, and a class instance (without `immerable`) is
 * a value to it, neither proxied nor copied. So a `produce` over the projection drafts only the
 * state's own small object, and each trie does its own copy-on-write: a frozen node is copied before
 * it is changed (and the copy put in its parent's slot), an unfrozen one is changed in place.
 * The same code runs on replay's private, unfrozen state (everything in place) and inside a `produce` on the
 * write path, where the committed state is frozen and a write copies just the nodes on its path
 * (see `writable`, and `freezeFresh` for freezing what it created).
 */

const BITS = 5
const WIDTH = 1 << BITS
const MASK = WIDTH - 1

type TrieNode<T> = Array<TrieNode<T> | LazyNode<T> | T | undefined>

/** Keys under one node of level 1 (two levels of 32): the unit a snapshot stores and loads lazily. */
export const PAGE_KEYS = WIDTH * WIDTH

/**
 * A node of level 1 (the PAGE_KEYS keys under one slot of a level-2 node) that a snapshot stored,
 * built from its stored form only when a read or a write first reaches it: open then costs in
 * proportion to the snapshot's bytes, not to the change sources it holds (see snapshot-loader.ts).
 *
 * The built node is frozen and kept, so the trie stays a value (what changes is only when its
 * content is computed), and a write copies the built node like any frozen node. Private fields
 * stay writable on a frozen instance, which is what lets the memo live inside a frozen state.
 */
export class LazyNode<T> {
  #build: (() => TrieNode<T>) | undefined
  #node: TrieNode<T> | undefined

  constructor(build: () => TrieNode<T>) {
    this.#build = build
  }

  node(): TrieNode<T> {
    let node = this.#node
    if (node === undefined) {
      node = this.#build!()
      for (const leaf of node) if (leaf !== undefined) Object.freeze(leaf)
      Object.freeze(node)
      this.#node = node
      // The stored form can go once built.
      this.#build = undefined
    }
    return node
  }
}

/**
 * A lazily built page of `size` values: `fill` is called once, on first use, with a setter for
 * distinct keys of the page (the caller guarantees they lie in it). The page's size is known before
 * it is built and the trie's size is counted from it, so a `fill` that sets another number of
 * values fails with `wrongSize(count)`.
 */
export function lazyPage<T>(
  size: number,
  fill: (set: (key: number, value: T) => void) => void,
  wrongSize: (count: number) => Error,
): LazyNode<T> {
  return new LazyNode(() => {
    const node: TrieNode<T> = new Array(WIDTH).fill(undefined)
    let count = 0
    fill((key, value) => {
      const slot = (key >>> BITS) & MASK
      const leaf = (node[slot] ??= new Array(WIDTH).fill(undefined)) as TrieNode<T>
      leaf[key & MASK] = value
      count += 1
    })
    if (count !== size) throw wrongSize(count)
    return node
  })
}

/** A lazily built page holding the values of `source` that `keep` accepts; `size` is their count (see lazyPage). */
export function filteredPage<T>(source: LazyNode<T>, size: number, keep: (value: T) => boolean, wrongSize: (count: number) => Error): LazyNode<T> {
  return new LazyNode(() => {
    const node: TrieNode<T> = new Array(WIDTH).fill(undefined)
    let kept = 0
    source.node().forEach((leaf, slot) => {
      if (leaf === undefined) return
      let own: TrieNode<T> | undefined
      ;(leaf as TrieNode<T>).forEach((value, index) => {
        if (value === undefined || !keep(value as T)) return
        ;(own ??= node[slot] = new Array(WIDTH).fill(undefined))[index] = value
        kept += 1
      })
    })
    if (kept !== size) throw wrongSize(kept)
    return node
  })
}

/** Calls `visit` with each value of `page` (built now if it is not yet) and its key's offset in the page, in key order. */
export function forEachInLazyPage<T>(page: LazyNode<T>, visit: (offset: number, value: T) => void): void {
  page.node().forEach((leaf, slot) => {
    if (leaf === undefined) return
    ;(leaf as TrieNode<T>).forEach((value, index) => {
      if (value !== undefined) visit(slot * WIDTH + index, value as T)
    })
  })
}

/**
 * A trie of `size` values whose level-1 nodes are `pages` (page index → page), for restore to
 * build from a snapshot. Only the levels above the pages are created.
 */
export function trieOfPages<T>(size: number, pages: Iterable<readonly [index: number, page: LazyNode<T>]>): IdTrie<T> {
  const trie = new IdTrie<T>(0, 3, newNode())
  for (const [index, page] of pages) {
    const firstKey = index * PAGE_KEYS
    while (firstKey >= WIDTH ** trie.depth) {
      const root = newNode<T>()
      root[0] = trie.root
      trie.root = root
      trie.depth += 1
    }
    let node = trie.root
    for (let level = trie.depth - 1; level > 2; level--) node = writableChild(node, slotAt(firstKey, level), level)
    node[slotAt(firstKey, 2)] = page
  }
  trie.size = size
  return trie
}

/** The pages of `trie` (its level-1 nodes, built or not), in key order; none are built by this. */
export function triePages<T>(trie: IdTrie<T>): number[] {
  if (trie.size === 0) return []
  // In a trie of fewer than three levels, every key is on page 0.
  if (trie.depth < 3) return [0]
  const pages: number[] = []
  const visit = (node: TrieNode<T>, level: number, firstKey: number): void => {
    for (let slot = 0; slot < WIDTH; slot++) {
      if (node[slot] === undefined) continue
      const key = firstKey + slot * WIDTH ** level
      if (level > 2) visit(node[slot] as TrieNode<T>, level - 1, key)
      else pages.push(key / PAGE_KEYS)
    }
  }
  visit(trie.root, trie.depth - 1, 0)
  return pages
}

export class IdTrie<T> {
  constructor(
    /** Number of keys present. */
    public size: number,
    /** Levels of nodes below the root; keys up to WIDTH ** depth - 1 fit. */
    public depth: number,
    public root: TrieNode<T>,
  ) {}
}

export function emptyTrie<T>(): IdTrie<T> {
  return created(new IdTrie<T>(0, 1, newNode()))
}

function newNode<T>(): TrieNode<T> {
  return created(new Array(WIDTH).fill(undefined))
}

// What the write in progress created (see `freezingCreated`); undefined outside a write, where
// nothing is shared yet (replay) and nothing needs collecting.
let createdInWrite: object[] | undefined

/** Marks `value` as created by the write in progress, to be frozen when it ends; returns it. */
export function created<V extends object>(value: V): V {
  createdInWrite?.push(value)
  return value
}

/**
 * Runs `write`, then freezes every trie, node and value that it created (through `created`,
 * `emptyTrie` or `writable`): freezing exactly those costs in proportion to the write, where a walk
 * would look at every slot of every node on its path.
 */
export function freezingCreated<R>(write: () => R): R {
  const outer = createdInWrite
  const fresh: object[] = (createdInWrite = [])
  try {
    return write()
  } finally {
    createdInWrite = outer
    for (const value of fresh) Object.freeze(value)
  }
}

function slotAt(key: number, level: number): number {
  // Shifts where they are exact (keys below 2^30, the ids of any real registry), as they cost far
  // less than a division per level. Beyond, keys go up to Number.MAX_SAFE_INTEGER, past 32 bits,
  // where only division is right.
  // (A level of 6 or more is above every such key: its slot there is 0, and `>>>` takes shifts mod 32.)
  if (key <= 0x3fffffff) return level < 6 ? (key >>> (level * BITS)) & MASK : 0
  return Math.floor(key / WIDTH ** level) & MASK
}

export function trieGet<T>(trie: IdTrie<T>, key: number): T | undefined {
  if (key >= WIDTH ** trie.depth) return undefined
  let node: TrieNode<T> | undefined = trie.root
  if (key <= 0x3fffffff && trie.depth <= 7) {
    // Ids below 2^30 in a trie of at most 7 levels (all of them, in practice): shifts (at most
    // 30 bits, so `>>>` is exact) instead of a division per level. Lazy pages sit only in the
    // slots of level-2 nodes: the check is made at that step alone.
    for (let shift = (trie.depth - 1) * BITS; shift > 0; shift -= BITS) {
      const child = node[(key >>> shift) & MASK] as TrieNode<T> | LazyNode<T> | undefined
      if (child === undefined) return undefined
      node = shift === 2 * BITS && child instanceof LazyNode ? child.node() : (child as TrieNode<T>)
    }
    return node[key & MASK] as T | undefined
  }
  for (let level = trie.depth - 1; level > 0; level--) {
    const child = node[slotAt(key, level)] as TrieNode<T> | LazyNode<T> | undefined
    if (child === undefined) return undefined
    node = child instanceof LazyNode ? child.node() : child
  }
  return node[key & MASK] as T | undefined
}

/**
 * `value` itself when it may be changed in place (it is not frozen: replay's private state, or a
 * copy made earlier in the same write), else a shallow, unfrozen copy of it for the caller to put
 * where `value` was.
 */
export function writable<V extends IdTrie<unknown> | unknown[]>(value: V): V {
  if (!Object.isFrozen(value)) return value
  if (value instanceof IdTrie) return created(new IdTrie(value.size, value.depth, value.root)) as V
  // Spread, not slice: on Node 20 `slice` of a frozen array takes a slow path.
  return created([...(value as unknown[])]) as V
}

/** Freezes `value` and everything reachable from it that is not frozen yet (a replayed state, a fixture's). */
export function freezeFresh<V>(value: V): V {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) freezeFresh(value[index])
  } else {
    for (const key in value) freezeFresh(value[key])
  }
  return Object.freeze(value)
}

/** The writable child at `slot` of a writable node of `level` (created when missing, copied when frozen). */
function writableChild<T>(node: TrieNode<T>, slot: number, level: number): TrieNode<T> {
  const stored = node[slot] as TrieNode<T> | LazyNode<T> | undefined
  // Lazy pages sit only in the slots of level-2 nodes (see trieGet).
  const child = level === 2 && stored instanceof LazyNode ? stored.node() : (stored as TrieNode<T> | undefined)
  const own = child === undefined ? newNode<T>() : writable(child)
  if (own !== stored) node[slot] = own
  return own
}

/** Sets `key`; `trie` itself must be writable (see `writable`), its nodes are copied as needed. */
export function trieSet<T>(trie: IdTrie<T>, key: number, value: T): void {
  while (key >= WIDTH ** trie.depth) {
    const root = newNode<T>()
    root[0] = trie.root
    trie.root = root
    trie.depth += 1
  }
  const root = writable(trie.root)
  if (root !== trie.root) trie.root = root
  let node = trie.root
  for (let level = trie.depth - 1; level > 0; level--) node = writableChild(node, slotAt(key, level), level)
  if (node[key & MASK] === undefined) trie.size += 1
  node[key & MASK] = value
}

/** Deletes `key`; `trie` itself must be writable (see `writable`), its nodes are copied as needed. */
export function trieDelete<T>(trie: IdTrie<T>, key: number): void {
  // Nothing is copied for a key that is not there.
  if (trieGet(trie, key) === undefined) return
  const root = writable(trie.root)
  if (root !== trie.root) trie.root = root
  const path: Array<TrieNode<T>> = [trie.root]
  let node = trie.root
  for (let level = trie.depth - 1; level > 0; level--) {
    node = writableChild(node, slotAt(key, level), level)
    path.push(node)
  }
  node[key & MASK] = undefined
  trie.size -= 1
  // Prune emptied nodes so that walking a sparse trie costs in proportion to what it holds.
  for (let level = 1; level < trie.depth; level++) {
    if (!isEmptyNode(path[path.length - level]!)) break
    path[path.length - level - 1]![slotAt(key, level)] = undefined
  }
}

function isEmptyNode<T>(node: TrieNode<T>): boolean {
  for (let slot = 0; slot < WIDTH; slot++) if (node[slot] !== undefined) return false
  return true
}

/** Calls `visit` for every value, in ascending key order. Costs in proportion to the values present. */
export function trieForEach<T>(trie: IdTrie<T>, visit: (value: T) => void): void {
  if (trie.size > 0) walk(trie.root, trie.depth - 1, visit)
}

/** Calls `visit` with every key of page `page` (keys page×PAGE_KEYS …) and its value, in ascending key order. */
export function trieForEachInPage<T>(trie: IdTrie<T>, page: number, visit: (key: number, value: T) => void): void {
  const firstKey = page * PAGE_KEYS
  if (trie.size === 0 || firstKey >= WIDTH ** trie.depth) return
  let node: TrieNode<T> | LazyNode<T> | undefined = trie.root
  // Down to the page's level-1 node (the root itself in a trie of fewer than three levels).
  for (let level = trie.depth - 1; level > 1 && node !== undefined; level--) node = (node as TrieNode<T>)[slotAt(firstKey, level)] as TrieNode<T> | LazyNode<T> | undefined
  if (node === undefined) return
  const pageNode = node instanceof LazyNode ? node.node() : node
  if (trie.depth === 1) {
    pageNode.forEach((value, key) => value !== undefined && visit(key, value as T))
    return
  }
  for (let slot = 0; slot < WIDTH; slot++) {
    const leaf = pageNode[slot] as TrieNode<T> | undefined
    if (leaf === undefined) continue
    for (let index = 0; index < WIDTH; index++) {
      const value = leaf[index]
      if (value !== undefined) visit(firstKey + slot * WIDTH + index, value as T)
    }
  }
}

function walk<T>(node: TrieNode<T>, level: number, visit: (value: T) => void): void {
  for (let slot = 0; slot < WIDTH; slot++) {
    const child = node[slot]
    if (child === undefined) continue
    if (level === 0) visit(child as T)
    else walk(child instanceof LazyNode ? child.node() : (child as TrieNode<T>), level - 1, visit)
  }
}
