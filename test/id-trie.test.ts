// The radix trie behind every collection of the projection, against a Map, plainly and under immer.
import fc from 'fast-check'
import { Immer } from 'immer'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  PAGE_KEYS,
  emptyTrie,
  filteredPage,
  freezeFresh,
  lazyPage,
  trieDelete,
  trieForEach,
  trieGet,
  trieOfPages,
  triePages,
  trieForEachInPage,
  trieSet,
  writable,
  type IdTrie,
  type LazyNode,
} from '../src/domain/id-trie.js'

const immer = new Immer({ autoFreeze: true })
const keys = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 5000 }), fc.constantFrom(0, 31, 32, 1023, 1024, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER))
const operations = fc.array(fc.oneof(fc.tuple(fc.constant('set' as const), keys, fc.integer()), fc.tuple(fc.constant('delete' as const), keys, fc.constant(0))), { maxLength: 200 })

function valuesOf(trie: IdTrie<number>): number[] {
  const values: number[] = []
  trieForEach(trie, (value) => values.push(value))
  return values
}

function check(trie: IdTrie<number>, model: Map<number, number>): void {
  const sorted = [...model.entries()].sort(([a], [b]) => a - b)
  assert.is(trie.size, model.size)
  assert.equal(valuesOf(trie), sorted.map(([, value]) => value))
  for (const [key, value] of sorted) assert.is(trieGet(trie, key), value)
}

test('the entries of one page, in key order, in tries of every depth', () => {
  for (const keys of [[3, 17], [3, 700], [3, 1500, 40_000], [2 ** 31]]) {
    const trie = emptyTrie<number>()
    for (const key of keys) trieSet(trie, key, key * 2)
    const pages = new Map<number, Array<[number, number]>>()
    for (const key of keys) pages.set(Math.floor(key / PAGE_KEYS), [...(pages.get(Math.floor(key / PAGE_KEYS)) ?? []), [key, key * 2]])
    for (const page of [0, 1, 39, Math.floor(2 ** 31 / PAGE_KEYS)]) {
      const entries: Array<[number, number]> = []
      trieForEachInPage(trie, page, (key, value) => void entries.push([key, value]))
      assert.equal(entries, pages.get(page) ?? [], `keys ${keys}, page ${page}`)
    }
  }
})

test('set, delete, get and ordered walk agree with a Map (mutable use, as in replay)', () => {
  fc.assert(
    fc.property(operations, (ops) => {
      const trie = emptyTrie<number>()
      const model = new Map<number, number>()
      for (const [op, key, value] of ops) {
        if (op === 'set') {
          trieSet(trie, key, value)
          model.set(key, value)
        } else {
          trieDelete(trie, key)
          model.delete(key)
        }
      }
      check(trie, model)
    }),
    { numRuns: 200 },
  )
})

// As on the write path: the trie is a value inside an immer draft, and copies its own path.
function produceTrie(trie: IdTrie<number>, change: (own: IdTrie<number>) => void): IdTrie<number> {
  return immer.produce({ trie }, (draft) => {
    const own = (draft.trie = writable(draft.trie as IdTrie<number>))
    change(own)
    freezeFresh(own)
  }).trie
}

/** Applies `ops` to `trie` and `model`, each write in its own produce; checks that every write leaves the trie before it as it was, and the next one frozen. */
function writeUnderImmer(trie: IdTrie<number>, model: Map<number, number>, ops: ReadonlyArray<readonly ['set' | 'delete', number, number]>): IdTrie<number> {
  for (const [op, key, value] of ops) {
    const before = valuesOf(trie)
    const previous = trie
    trie = produceTrie(trie, (own) => (op === 'set' ? trieSet(own, key, value) : trieDelete(own, key)))
    if (op === 'set') model.set(key, value)
    else model.delete(key)
    assert.equal(valuesOf(previous), before)
    assert.ok(Object.isFrozen(trie) && Object.isFrozen(trie.root))
  }
  return trie
}

test('inside immer: each write leaves the previous trie as it was, and the next one frozen', () => {
  fc.assert(
    fc.property(operations, (ops) => {
      const model = new Map<number, number>()
      check(writeUnderImmer(freezeFresh(emptyTrie<number>()), model, ops), model)
    }),
    { numRuns: 100 },
  )
})

test('a write shares every node off its path with the previous trie', () => {
  let trie = emptyTrie<number>()
  for (let key = 0; key < 32 * 32 * 4; key++) trieSet(trie, key, key)
  trie = freezeFresh(trie)
  const next = produceTrie(trie, (own) => trieSet(own, 5, -5))
  assert.is(trieGet(next, 5), -5)
  assert.is(trieGet(trie, 5), 5)
  assert.is.not(next.root, trie.root)
  assert.is(next.root[1], trie.root[1])
  assert.is(next.root[2], trie.root[2])
})

test('deleting the last keys prunes the emptied nodes', () => {
  const trie = emptyTrie<number>()
  for (const key of [1, 40, 5000, 70000]) trieSet(trie, key, key)
  for (const key of [40, 5000, 70000, 1]) trieDelete(trie, key)
  assert.is(trie.size, 0)
  assert.ok(trie.root.every((slot) => slot === undefined))
  trieDelete(trie, 123)
  assert.is(trie.size, 0)
})

// Lazy pages, as a snapshot loads them: a trie whose level-1 nodes are built on first use.

/** A trie of `model` made of lazy pages, and a count of the pages built so far. */
function lazyTrie(model: Map<number, number>): { trie: IdTrie<number>; built: () => number } {
  let built = 0
  const byPage = new Map<number, Array<[number, number]>>()
  for (const [key, value] of model) {
    const page = Math.floor(key / PAGE_KEYS)
    byPage.set(page, [...(byPage.get(page) ?? []), [key, value]])
  }
  const pages = [...byPage].map(([page, entries]): [number, LazyNode<number>] => [
    page,
    lazyPage<number>(
      entries.length,
      (set) => {
        built += 1
        for (const [key, value] of entries) set(key, value)
      },
      (count) => new RangeError(`page ${page}: ${count} values`),
    ),
  ])
  return { trie: trieOfPages(model.size, pages), built: () => built }
}

const lazyKeys = fc.oneof(fc.integer({ min: 0, max: 5 * PAGE_KEYS }), fc.constantFrom(0, 1023, 1024, 2 ** 20, 2 ** 31))
const lazyModels = fc.array(fc.tuple(lazyKeys, fc.integer()), { maxLength: 300 }).map((entries) => new Map(entries))
const lazyOperations = fc.array(
  fc.oneof(fc.tuple(fc.constant('set' as const), lazyKeys, fc.integer()), fc.tuple(fc.constant('delete' as const), lazyKeys, fc.constant(0))),
  { maxLength: 100 },
)

test('a trie of lazy pages answers like a Map, and under immer each write leaves the last trie as it was', () => {
  fc.assert(
    fc.property(lazyModels, lazyOperations, (initial, ops) => {
      const model = new Map(initial)
      const lazy = freezeFresh(lazyTrie(model).trie)
      check(lazy, model)
      const trie = writeUnderImmer(lazy, model, ops)
      check(trie, model)
      for (const page of new Set([0, 1, 5, ...[...model.keys()].map((key) => Math.floor(key / PAGE_KEYS))])) {
        const entries: Array<[number, number]> = []
        trieForEachInPage(trie, page, (key, value) => void entries.push([key, value]))
        const expected = [...model].filter(([key]) => Math.floor(key / PAGE_KEYS) === page).sort(([a], [b]) => a - b)
        assert.equal(entries, expected, `page ${page}`)
      }
      // Every page that holds keys is listed (a trie grown from empty may also list an empty page 0).
      const listed = triePages(trie)
      for (const key of model.keys()) assert.ok(listed.includes(Math.floor(key / PAGE_KEYS)), `page of ${key}`)
    }),
    { numRuns: 200 },
  )
})

test('a lazy page is built once, when a read or a write first reaches it, and not by listing pages', () => {
  const model = new Map([
    [5, 50],
    [1500, 150],
    [4000, 400],
  ])
  const { trie, built } = lazyTrie(model)
  freezeFresh(trie)
  assert.equal(triePages(trie), [0, 1, 3])
  assert.is(trie.size, 3)
  assert.is(built(), 0)
  assert.is(trieGet(trie, 1500), 150)
  assert.is(trieGet(trie, 1501), undefined)
  assert.is(built(), 1)
  const next = produceTrie(trie, (own) => trieSet(own, 4001, 401))
  assert.is(built(), 2)
  assert.is(trieGet(trie, 4001), undefined)
  assert.is(trieGet(next, 4001), 401)
  assert.equal(valuesOf(next), [50, 150, 400, 401])
  assert.is(built(), 3)
  // Built once, then kept: a second walk builds nothing.
  assert.equal(valuesOf(trie), [50, 150, 400])
  assert.is(built(), 3)
})

test('a filtered page holds what its source holds and the filter keeps; a page of the wrong size fails when built', () => {
  const { trie } = lazyTrie(new Map(Array.from({ length: 100 }, (_, index) => [index, index])))
  // A trie of pages is three levels deep at least: the root's first slot is page 0.
  const page = trie.root[0] as unknown as LazyNode<number>
  const evens = trieOfPages(50, [[0, filteredPage(page, 50, (value) => value % 2 === 0, (count) => new RangeError(String(count)))]])
  assert.equal(
    valuesOf(evens),
    Array.from({ length: 50 }, (_, index) => index * 2),
  )
  const wrong = trieOfPages(49, [[0, filteredPage(page, 49, (value) => value % 2 === 0, (count) => new RangeError(`built ${count}`))]])
  assert.throws(() => trieGet(wrong, 0), /built 50/)
  const short = trieOfPages(2, [[0, lazyPage<number>(2, (set) => set(1, 1), (count) => new RangeError(`built ${count}`))]])
  assert.throws(() => valuesOf(short), /built 1/)
})

test.run()
