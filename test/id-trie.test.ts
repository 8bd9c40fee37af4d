// The radix trie behind every collection of the projection, against a Map, plainly and under immer.
import fc from 'fast-check'
import { Immer } from 'immer'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { emptyTrie, freezeFresh, trieDelete, trieForEach, trieGet, trieSet, writable, type IdTrie } from '../src/id-trie.js'

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

test('inside immer: each write leaves the previous trie as it was, and the next one frozen', () => {
  fc.assert(
    fc.property(operations, (ops) => {
      let trie = freezeFresh(emptyTrie<number>())
      const model = new Map<number, number>()
      for (const [op, key, value] of ops) {
        const before = valuesOf(trie)
        const previous = trie
        trie = produceTrie(trie, (own) => (op === 'set' ? trieSet(own, key, value) : trieDelete(own, key)))
        if (op === 'set') model.set(key, value)
        else model.delete(key)
        assert.equal(valuesOf(previous), before)
        assert.ok(Object.isFrozen(trie) && Object.isFrozen(trie.root))
      }
      check(trie, model)
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

test.run()
