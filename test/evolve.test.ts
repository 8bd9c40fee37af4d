// evolve, the fold: pure, frozen, and the same whether a record at a time or replayed in one go.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChangeRecord } from '../src/domain/events.js'
import { evolve } from '../src/domain/evolve.js'
import { findIdByName, getChangeSource, getChangeSources, initialState, nameBucket } from '../src/domain/projection.js'
import { encodeRecord, stampEvent } from '../src/log/record-codec.js'
import { MemoryLevel } from 'memory-level'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { restoreState } from '../src/engine/restore.js'
import { Writer } from '../src/engine/writer.js'
import { discardingStore } from './helpers/discarding-store.js'
import { claimed, registered, released, state } from './helpers/fixtures.js'

test('evolve returns a new state and leaves the one it was given as it was', () => {
  const before = state(registered(1, 'a'), registered(2, 'b'))
  const listed = getChangeSources(before)
  const after = evolve(before, stampEvent(claimed(2, 9), 3, 0, before.hash))
  assert.equal(getChangeSources(before), listed)
  assert.equal(getChangeSource(after, 2), { id: 2, name: 'b', masterid: 9 })
  assert.is(getChangeSource(after, 1), getChangeSource(before, 1), 'an untouched change source is shared')
  assert.ok(Object.isFrozen(after))
  assert.is(after.seq, 3)
})

test('every index follows claims and releases', () => {
  const after = state(registered(1, 'a'), registered(2, 'b'), registered(3, 'c'), claimed(2, 9), claimed(3, 9), released(2, 9), claimed(1, 4))
  assert.equal(getChangeSources(after, { masterid: 9 }).map((c) => c.id), [3])
  assert.equal(getChangeSources(after, { masterid: 4 }).map((c) => c.id), [1])
  assert.equal(getChangeSources(after, { active: true }).map((c) => c.id), [1, 3])
  assert.equal(getChangeSources(after, { active: false }).map((c) => c.id), [2])
  assert.is(after.nextId, 4)
})

test('replaying the stored records gives the state that evolving them one by one gave', async () => {
  const events = [registered(1, 'a'), registered(2, 'b'), claimed(1, 3), claimed(2, 3), released(1, 3, 'master-deactivated'), released(2, 3)]
  let current = initialState()
  const records: ChangeRecord[] = []
  for (const event of events) {
    const record = stampEvent(event, current.seq + 1, 1000, current.hash)
    records.push(record)
    current = evolve(current, record)
  }
  const db = new MemoryLevel()
  await db.open()
  const store = await LevelLogStore.open(db, { sync: false })
  await store.append(records.map((record) => ({ seq: record.seq, value: encodeRecord(record) })), 0)
  const { state: replayed, recordsFolded } = await restoreState(store)
  assert.is(recordsFolded, records.length)
  assert.equal(replayed, current)
  assert.ok(Object.isFrozen(replayed.indexes.byId.root))
})

test('names whose hashes collide keep their own ids', () => {
  // Three names in one bucket of the name index, found by trying names in turn.
  const byBucket = new Map<number, string[]>()
  let colliding: string[] | undefined
  for (let index = 0; colliding === undefined; index++) {
    const name = `poller-${index}`
    const names = [...(byBucket.get(nameBucket(name)) ?? []), name]
    byBucket.set(nameBucket(name), names)
    if (names.length === 3) colliding = names
  }
  const after = state(registered(1, colliding[0]!), registered(2, 'other'), registered(3, colliding[1]!), registered(4, colliding[2]!))
  assert.equal(colliding.map((name) => findIdByName(after, name)), [1, 3, 4])
  assert.is(findIdByName(after, 'other'), 2)
  assert.is(findIdByName(after, 'poller-never'), undefined)
})

/** Every object reachable from `value` that is not frozen, by path. */
function unfrozen(value: unknown, path = 'state', found: string[] = [], seen = new Set<object>()): string[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return found
  seen.add(value)
  if (!Object.isFrozen(value)) found.push(path)
  for (const [key, child] of Object.entries(value)) unfrozen(child, `${path}.${key}`, found, seen)
  return found
}

test('after every write the whole state is frozen, so no later write can change a state already handed out', async () => {
  const store = discardingStore()
  const writer = new Writer({ state: initialState(), store, publish: () => {}, now: () => 0 })
  const states = [writer.state]
  const snapshots = [JSON.stringify(writer.state)]
  const commands = [
    ...Array.from({ length: 70 }, (_, index) => ({ type: 'RegisterChangeSource' as const, name: `cs${index}` })),
    ...Array.from({ length: 70 }, (_, index) => ({ type: 'ClaimChangeSource' as const, changesourceid: index + 1, masterid: (index % 3) + 1 })),
    { type: 'ReleaseChangeSource' as const, changesourceid: 5 },
    { type: 'DeactivateMaster' as const, masterid: 2 },
  ]
  for (const command of commands) {
    await writer.submit(command)
    assert.equal(unfrozen(writer.state), [], `after ${JSON.stringify(command)}`)
    states.push(writer.state)
    snapshots.push(JSON.stringify(writer.state))
  }
  // Concurrent commands: one batch, one recipe.
  await Promise.all(Array.from({ length: 40 }, (_, index) => writer.submit({ type: 'RegisterChangeSource', name: `late${index}` })))
  assert.equal(unfrozen(writer.state), [])
  states.forEach((state, index) => assert.is(JSON.stringify(state), snapshots[index], `state ${index} changed after it was committed`))
})

test.run()
