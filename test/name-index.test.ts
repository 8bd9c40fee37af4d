// The name index (issue 11): names crafted to share one bucket must not make a lookup scan them
// all, nor a registration copy them all. Measured by the index's shape (nameIndexBounds), not by time.
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { collidingNames } from '../bench/colliding-names.js'
import { evolve } from '../src/domain/evolve.js'
import { ChangeSources, CorruptLogError } from '../src/index.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { findIdByName, initialState, nameBucket, nameIndexBounds, type ChangeSourcesState } from '../src/domain/projection.js'
import { encodeRecord, stampEvent } from '../src/log/record-codec.js'
import { restoreState } from '../src/engine/restore.js'
import { HEAD_PART, digestOf, headChecksum, namesPartName, partNamesOf, type SnapshotHead } from '../src/snapshots/snapshot.js'
import { sha256 } from '../src/sha256.js'
import { registered } from './helpers/fixtures.js'

const COUNT = 2000
const names = collidingNames(COUNT + 2)
const registeredNames = names.slice(0, COUNT)
const neverRegistered = names[COUNT]!
const registeredAfterReopen = names[COUNT + 1]!

// A lookup may compare a handful of names, and a registration copy arrays of a node's width.
const MOST_NAMES_COMPARED = 8
const LONGEST_ARRAY = 32

function assertFindsEveryName(state: ChangeSourcesState): void {
  const wrong = registeredNames.filter((name, index) => findIdByName(state, name) !== index + 1)
  assert.equal(wrong, [], 'every registered name finds its own id')
  assert.is(findIdByName(state, neverRegistered), undefined)
}

function assertBounded(state: ChangeSourcesState): void {
  const bounds = nameIndexBounds(state)
  assert.ok(bounds.namesCompared <= MOST_NAMES_COMPARED, `a lookup compares ${bounds.namesCompared} names`)
  assert.ok(bounds.longestArray <= LONGEST_ARRAY, `a registration copies an array of ${bounds.longestArray}`)
}

test('the crafted names are distinct and all share one bucket', () => {
  assert.is(new Set(names).size, names.length)
  assert.equal(new Set(names.map(nameBucket)), new Set([nameBucket(names[0]!)]))
})

test('registering names crafted into one bucket keeps lookups and copies small (the write path)', () => {
  let state = initialState()
  registeredNames.forEach((name, index) => {
    state = evolve(state, stampEvent(registered(index + 1, name), state.seq + 1, 0, state.hash))
  })
  assertFindsEveryName(state)
  assertBounded(state)
  assert.equal(unfrozen(state.indexes.idsByNameBucket), [], 'a later write cannot change the index of a state handed out')
})

/** The paths of the objects reachable from `value` that are not frozen. */
function unfrozen(value: unknown, path = 'index', found: string[] = []): string[] {
  if (typeof value !== 'object' || value === null) return found
  if (!Object.isFrozen(value)) found.push(path)
  for (const [key, child] of Object.entries(value)) unfrozen(child, `${path}.${key}`, found)
  return found
}

async function storeOf(db: MemoryLevel): Promise<LevelLogStore> {
  return LevelLogStore.open(db, { sync: false })
}

test('replaying names crafted into one bucket keeps lookups and copies small (replay)', async () => {
  let state = initialState()
  const entries = registeredNames.map((name, index) => {
    const record = stampEvent(registered(index + 1, name), state.seq + 1, 0, state.hash)
    state = { ...state, seq: record.seq, hash: record.hash }
    return { seq: record.seq, value: encodeRecord(record) }
  })
  const db = new MemoryLevel()
  await db.open()
  const store = await storeOf(db)
  await store.append(entries, 0)
  const restored = await restoreState(store)
  assert.is(restored.recordsFolded, COUNT)
  assertFindsEveryName(restored.state)
  assertBounded(restored.state)
  await db.close()
})

test('a snapshot of names crafted into one bucket loads back to the same small lookups', async () => {
  const db = new MemoryLevel()
  const cs = await ChangeSources.open({ db, sync: false, snapshotEvery: 500 })
  for (const name of registeredNames) await cs.findChangeSourceId(name)
  await cs.close()

  // What the reopen starts from: open restores the head as restoreState does.
  assert.ok((await restoreState(await storeOf(db))).snapshot.used, 'the reopen starts from the snapshot')
  const reopened = await ChangeSources.open({ db, snapshotEvery: 0 })
  for (const [index, name] of registeredNames.entries()) assert.is(await reopened.findChangeSourceId(name), index + 1)
  assert.is(await reopened.findChangeSourceId(registeredAfterReopen), COUNT + 1)
  await reopened.close()

  const { state, snapshot } = await restoreState(await storeOf(db))
  assert.ok(snapshot.used, 'restored from the snapshot')
  assertFindsEveryName(state)
  assertBounded(state)
  await db.close()
})

/** Rewrites the one names part of `db`'s snapshot with `change`, and its digest and checksum as a writer with a bug would. */
async function rewriteNamesPart(db: MemoryLevel, change: (ids: number[]) => unknown): Promise<void> {
  const head = JSON.parse((await db.get(`snapshot!${HEAD_PART}`))!) as SnapshotHead
  const { rows, claims, names: nameParts } = partNamesOf(head)
  assert.equal(nameParts, [namesPartName(0)])
  const [offset, ids] = JSON.parse((await db.get(`snapshot!${namesPartName(0)}`))!) as [number, number[]]
  await db.put(`snapshot!${namesPartName(0)}`, JSON.stringify([offset, change(ids)]))
  const checksums: string[] = []
  for (const part of [...rows, ...claims, ...nameParts]) checksums.push(sha256((await db.get(`snapshot!${part}`))!))
  const changed = { ...head, digest: digestOf(checksums) }
  await db.put(`snapshot!${HEAD_PART}`, JSON.stringify({ ...changed, checksum: headChecksum(changed) }))
}

const tampered: Array<[string, (ids: number[]) => unknown]> = [
  ['an id without a row', (ids) => [...ids.slice(0, -1), 99]],
  ['ids out of order', (ids) => [...ids].reverse()],
]

for (const [title, change] of tampered) {
  test(`a stored bucket past the listed size with ${title} is a malformed page, not a wrong answer`, async () => {
    const db = new MemoryLevel()
    const cs = await ChangeSources.open({ db, sync: false, snapshotEvery: 20 })
    for (const name of registeredNames.slice(0, 20)) await cs.findChangeSourceId(name)
    await cs.close()
    await rewriteNamesPart(db, change)
    const { state, snapshot } = await restoreState(await storeOf(db))
    assert.ok(snapshot.used, 'the snapshot passes every check made before its pages are parsed')
    const error = (() => {
      try {
        findIdByName(state, registeredNames[0]!)
      } catch (caught) {
        return caught
      }
    })()
    assert.instance(error, CorruptLogError)
    assert.match((error as Error).message, namesPartName(0))
    await db.close()
  })
}

test.run()
