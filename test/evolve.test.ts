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
import { at, claimed, claimedWithLease, expired, registered, released, renewed, state } from './helpers/fixtures.js'
import { getClaim } from '../src/domain/leases.js'

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

// Leases: the claim a query returns after given records (seq = position, so a token is a position).
test('lease: a claim with a lease is held with its token (its seq), since, length and deadline', () => {
  const after = state(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)))
  assert.equal(getClaim(after, 1), { changesourceid: 1, masterid: 7, token: 2, since: 1000, leaseMs: 100, expiresAt: 1100 })
  assert.equal(getChangeSource(after, 1), { id: 1, name: 'a', masterid: 7 })
  assert.ok(Object.isFrozen(getClaim(after, 1)))
})

test('lease: a renewal moves the deadline of every lease of its master, and of no other master', () => {
  const after = state(
    registered(1, 'a'),
    registered(2, 'b'),
    registered(3, 'c'),
    at(1000, claimedWithLease(1, 7, 100)),
    at(1010, claimedWithLease(2, 7, 300)),
    at(1020, claimedWithLease(3, 8, 100)),
    at(1050, renewed(7)),
  )
  assert.is(getClaim(after, 1)!.expiresAt, 1150)
  assert.is(getClaim(after, 2)!.expiresAt, 1350)
  assert.is(getClaim(after, 3)!.expiresAt, 1120)
  assert.is(getClaim(after, 1)!.token, 4, 'a renewal keeps the token')
})

test('lease: a renewal stamped earlier than the last one (another writer\'s clock) never moves a deadline back', () => {
  const after = state(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)), at(1080, renewed(7)), at(1040, renewed(7)))
  assert.is(getClaim(after, 1)!.expiresAt, 1180)
})

test('lease: a claim made after the last renewal lasts from the claim', () => {
  const after = state(registered(1, 'a'), registered(2, 'b'), at(1000, claimedWithLease(1, 7, 100)), at(1050, renewed(7)), at(1090, claimedWithLease(2, 7, 100)))
  assert.is(getClaim(after, 1)!.expiresAt, 1150)
  assert.is(getClaim(after, 2)!.expiresAt, 1190)
})

test('lease: an expiry ends the claim like a release; the next claim has a greater token', () => {
  const expiredOnly = state(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)), at(1200, expired(1, 7, 1100)))
  assert.is(getClaim(expiredOnly, 1), null)
  assert.equal(getChangeSource(expiredOnly, 1), { id: 1, name: 'a', masterid: null })
  assert.equal(getChangeSources(expiredOnly, { masterid: 7 }), [])
  const takenOver = state(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)), at(1200, expired(1, 7, 1100)), at(1200, claimedWithLease(1, 8, 100)))
  assert.equal(getClaim(takenOver, 1), { changesourceid: 1, masterid: 8, token: 4, since: 1200, leaseMs: 100, expiresAt: 1300 })
})

test('lease: a master that held leases and then none starts afresh: an old renewal does not carry over', () => {
  // Master 7 renewed at 1500, lost everything, then claims with a clock behind that renewal.
  const after = state(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 1000)), at(1500, renewed(7)), at(1600, released(1, 7)), at(1400, claimedWithLease(1, 7, 100)))
  assert.is(getClaim(after, 1)!.expiresAt, 1500)
})

test('lease: Buildbot\'s claim has a token and no lease, and a renewal of its master changes nothing', () => {
  const after = state(registered(1, 'a'), registered(2, 'b'), at(1000, claimed(1, 7)), at(1000, claimedWithLease(2, 7, 100)), at(1050, renewed(7)))
  assert.equal(getClaim(after, 1), { changesourceid: 1, masterid: 7, token: 3, since: 1000, leaseMs: null, expiresAt: null })
  assert.is(getClaim(after, 2)!.expiresAt, 1150)
})

test('lease: replaying stored lease records (version 2) gives the state that evolving them one by one gave', async () => {
  const events = [registered(1, 'a'), registered(2, 'b'), claimedWithLease(1, 3, 300), claimed(2, 3), renewed(3), expired(1, 3, 1700), claimedWithLease(1, 4, 50)]
  const times = [1000, 1100, 1200, 1300, 1400, 1700, 1800]
  let current = initialState()
  const records: ChangeRecord[] = []
  for (const [index, event] of events.entries()) {
    const record = stampEvent(event, current.seq + 1, times[index]!, current.hash)
    records.push(record)
    current = evolve(current, record)
  }
  assert.equal(records.map((record) => record.version), [1, 1, 2, 1, 2, 2, 2])
  const db = new MemoryLevel()
  await db.open()
  const store = await LevelLogStore.open(db, { sync: false })
  await store.append(records.map((record) => ({ seq: record.seq, value: encodeRecord(record) })), 0)
  const { state: replayed } = await restoreState(store)
  assert.equal(replayed, current)
  assert.equal(getClaim(replayed, 1), { changesourceid: 1, masterid: 4, token: 7, since: 1800, leaseMs: 50, expiresAt: 1850 })
  assert.equal(getClaim(replayed, 2), { changesourceid: 2, masterid: 3, token: 4, since: 1300, leaseMs: null, expiresAt: null })
})

test.run()
