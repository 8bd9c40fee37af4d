// evolve, the fold: pure, frozen, and the same whether a record at a time or replayed in one go.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChangeRecord } from '../src/events.js'
import { evolve } from '../src/evolve.js'
import { getChangeSource, getChangeSources, initialState } from '../src/projection.js'
import { encodeRecord, stampEvent } from '../src/record-codec.js'
import { replay } from '../src/replay.js'
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
  async function* stored() {
    yield records.map((record) => ({ seq: record.seq, value: encodeRecord(record) }))
  }
  const replayed = await replay(stored())
  assert.equal(replayed, current)
  assert.ok(Object.isFrozen(replayed.byId.root))
})

test.run()
