// Commands in flight at once: one winner per race, one id per name, group commit in arrival order.
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode, type ChangeRecord } from '../src/index.js'
import { onEachBackend } from './helpers/backends.js'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'

onEachBackend('concurrency', (test) => {
  test('of 50 masters racing for one change source, exactly one wins', async ({ store }) => {
    const cs = await store.open()
    const records: ChangeRecord[] = []
    cs.changes$.subscribe((record) => records.push(record))
    const id = await cs.findChangeSourceId('contested')
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, index) => cs.trySetChangeSourceMaster(id, index + 1)))
    assert.is(outcomes.filter(Boolean).length, 1)
    const winner = outcomes.indexOf(true) + 1
    assert.is((await cs.getChangeSource(id))?.masterid, winner)
    assert.equal(
      records.filter((record) => record.type === 'MasterClaimed').map((record) => 'masterid' in record && record.masterid),
      [winner],
    )
  })

  test('the claim that arrives first wins, even inside one batch', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('contested')
    const [first, second] = await Promise.allSettled([cs.setChangeSourceMaster(id, 1), cs.setChangeSourceMaster(id, 2)])
    assert.is(first.status, 'fulfilled')
    assert.is(second.status, 'rejected')
    assert.is((second as PromiseRejectedResult).reason.code, ErrorCode.alreadyClaimed)
  })

  test('20 concurrent registrations of one name give one id and one record', async ({ store }) => {
    const cs = await store.open()
    const ids = await Promise.all(Array.from({ length: 20 }, () => cs.findChangeSourceId('same')))
    assert.equal(new Set(ids), new Set([1]))
    assert.is(cs.head, 1)
  })

  test('concurrent registrations of distinct names get contiguous ids, each name its own', async ({ store }) => {
    const cs = await store.open()
    const names = Array.from({ length: 200 }, (_, index) => `poller-${index}`)
    const ids = await Promise.all(names.map((name) => cs.findChangeSourceId(name)))
    assert.equal([...ids].sort((a, b) => a - b), names.map((_, index) => index + 1))
    for (const [index, name] of names.entries()) assert.is((await cs.getChangeSource(ids[index]!))?.name, name)
  })

  test('a release and a claim queued together: decided in order against each other', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('handover')
    await cs.setChangeSourceMaster(id, 1)
    const results = await Promise.allSettled([cs.setChangeSourceMaster(id, null), cs.setChangeSourceMaster(id, 2), cs.setChangeSourceMaster(id, 3)])
    assert.equal(results.map((result) => result.status), ['fulfilled', 'fulfilled', 'rejected'])
    assert.is((await cs.getChangeSource(id))?.masterid, 2)
  })
})

test('commands in flight together are written in fewer batches than commands (group commit)', async () => {
  const db = new MemoryLevel()
  let batches = 0
  const write = db.batch.bind(db)
  db.batch = ((...args: unknown[]) => {
    batches++
    return (write as (...a: unknown[]) => unknown)(...args)
  }) as typeof db.batch
  const cs = await ChangeSources.open({ db })
  const ids = await Promise.all(Array.from({ length: 100 }, (_, index) => cs.findChangeSourceId(`cs${index}`)))
  const before = batches
  await Promise.all(ids.map((id) => cs.setChangeSourceMaster(id, 1)))
  assert.ok(batches - before < 100, `100 claims took ${batches - before} batches`)
  assert.ok(batches - before >= 1)
  assert.is((await cs.getChangeSources({ masterid: 1 })).length, 100)
  await cs.close()
})

test.run()
