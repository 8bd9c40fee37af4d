// The connector's rules through the public API, on each backend.
import * as assert from 'uvu/assert'
import { ChangeSourceAlreadyClaimedError, ErrorCode, type ChangeRecord, type ChangeSources } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend } from './helpers/backends.js'

async function recordsOf(cs: ChangeSources): Promise<ChangeRecord[]> {
  const records: ChangeRecord[] = []
  await new Promise<void>((resolve, reject) => {
    const subscription = cs.watch({ from: 1 }).subscribe({
      next: (record) => {
        records.push(record)
        if (record.seq === cs.head) resolve()
      },
      error: reject,
    })
    if (cs.head === 0) resolve()
    void subscription
  })
  return records
}

onEachBackend('findChangeSourceId', (test) => {
  test('ids are 1, 2, 3, … in registration order', async ({ store }) => {
    const cs = await store.open()
    assert.equal([await cs.findChangeSourceId('a'), await cs.findChangeSourceId('b'), await cs.findChangeSourceId('c')], [1, 2, 3])
  })

  test('looking up an existing name appends nothing', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('csname')
    const head = cs.head
    assert.is(await cs.findChangeSourceId('csname'), id)
    assert.is(cs.head, head)
  })

  test('names are case- and whitespace-sensitive, any Unicode, empty included', async ({ store }) => {
    const cs = await store.open()
    const names = ['csname', 'CSName', 'csname ', ' csname', 'cs\tname', '', 'ü', 'u\u0308', '😀', 'x'.repeat(65536)]
    const ids = []
    for (const name of names) ids.push(await cs.findChangeSourceId(name))
    assert.equal(ids, names.map((_, index) => index + 1))
    for (const [index, name] of names.entries()) assert.is((await cs.getChangeSource(index + 1))?.name, name)
  })

  test('a name of exactly 64 KiB in UTF-8 is accepted, one byte more is not', async ({ store }) => {
    const cs = await store.open()
    await cs.findChangeSourceId('é'.repeat(32768))
    await rejectsWith(() => cs.findChangeSourceId('é'.repeat(32768) + 'a'), ErrorCode.invalidArgument)
    assert.is(cs.head, 1)
  })
})

onEachBackend('setChangeSourceMaster and trySetChangeSourceMaster', (test) => {
  test('claim, conflict, release, take over', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('poller')
    await cs.setChangeSourceMaster(id, 13)
    const error = await rejectsWith(() => cs.setChangeSourceMaster(id, 14), ErrorCode.alreadyClaimed, ChangeSourceAlreadyClaimedError)
    assert.match(error.message, 'poller')
    assert.match(error.message, 'master 13')
    assert.is(await cs.trySetChangeSourceMaster(id, 14), false)
    await cs.setChangeSourceMaster(id, null)
    assert.is(await cs.trySetChangeSourceMaster(id, 14), true)
    assert.equal(await cs.getChangeSource(id), { id, name: 'poller', masterid: 14 })
  })

  test('a refused claim and a re-claim by the holder append nothing', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('poller')
    await cs.setChangeSourceMaster(id, 13)
    const head = cs.head
    await cs.setChangeSourceMaster(id, 13)
    assert.is(await cs.trySetChangeSourceMaster(id, 13), true)
    assert.is(await cs.trySetChangeSourceMaster(id, 14), false)
    assert.is(cs.head, head)
  })

  test('release frees whichever master holds it; releasing an unclaimed one appends nothing', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('poller')
    await cs.setChangeSourceMaster(id, null)
    assert.is(cs.head, 1)
    await cs.setChangeSourceMaster(id, 13)
    await cs.setChangeSourceMaster(id, null)
    const records = await recordsOf(cs)
    assert.equal(
      records.map((record) => [record.type, 'masterid' in record ? record.masterid : null, 'reason' in record ? record.reason : null]),
      [
        ['ChangeSourceRegistered', null, null],
        ['MasterClaimed', 13, null],
        ['MasterReleased', 13, 'released'],
      ],
    )
  })

  test('claims and releases of an id never registered are refused and append nothing', async ({ store }) => {
    const cs = await store.open()
    await cs.findChangeSourceId('poller')
    await rejectsWith(() => cs.setChangeSourceMaster(2, 13), ErrorCode.unknownChangeSource)
    await rejectsWith(() => cs.setChangeSourceMaster(2, null), ErrorCode.unknownChangeSource)
    await rejectsWith(() => cs.trySetChangeSourceMaster(2, 13), ErrorCode.unknownChangeSource)
    assert.is(cs.head, 1)
  })
})

onEachBackend('getChangeSources filters', (test) => {
  // Buildbot's verified matrix, section 1.5 of the reference: cs1 held by master 1, cs2 by master 2
  // (inactive in Buildbot's fixture: the component only knows claims), cs3 by a master 555 that
  // does not exist, cs4–6 unclaimed. Master 0 is not an id here (see the errors suite).
  const cases: Array<[string, { active?: boolean; masterid?: number } | undefined, number[]]> = [
    ['no filter', undefined, [1, 2, 3, 4, 5, 6]],
    ['empty filter', {}, [1, 2, 3, 4, 5, 6]],
    ['masterid 1', { masterid: 1 }, [1]],
    ['masterid 2', { masterid: 2 }, [2]],
    ['masterid 999 (holds nothing)', { masterid: 999 }, []],
    ['active', { active: true }, [1, 2, 3]],
    ['active, masterid 1', { active: true, masterid: 1 }, [1]],
    ['active, masterid 2', { active: true, masterid: 2 }, [2]],
    ['active, masterid 999', { active: true, masterid: 999 }, []],
    ['inactive', { active: false }, [4, 5, 6]],
    ['inactive, masterid 1', { active: false, masterid: 1 }, []],
    ['inactive, masterid 2', { active: false, masterid: 2 }, []],
    ['inactive, masterid 999', { active: false, masterid: 999 }, []],
  ]
  for (const [title, filter, expected] of cases) {
    test(title, async ({ store }) => {
      const cs = await store.open()
      for (let index = 1; index <= 6; index++) await cs.findChangeSourceId(`cs${index}`)
      await cs.setChangeSourceMaster(1, 1)
      await cs.setChangeSourceMaster(2, 2)
      await cs.setChangeSourceMaster(3, 555)
      const result = await cs.getChangeSources(filter)
      assert.equal(result.map((changeSource) => changeSource.id), expected)
      for (const changeSource of result) assert.equal(changeSource, await cs.getChangeSource(changeSource.id))
    })
  }

  test('results are ordered by id whatever the order of the claims', async ({ store }) => {
    const cs = await store.open()
    for (let index = 1; index <= 40; index++) await cs.findChangeSourceId(`cs${index}`)
    for (const id of [33, 2, 17, 40, 1, 8]) await cs.setChangeSourceMaster(id, 7)
    assert.equal((await cs.getChangeSources({ masterid: 7 })).map((c) => c.id), [1, 2, 8, 17, 33, 40])
    assert.equal((await cs.getChangeSources({ active: true })).map((c) => c.id), [1, 2, 8, 17, 33, 40])
    await cs.setChangeSourceMaster(17, null)
    assert.equal((await cs.getChangeSources({ masterid: 7 })).map((c) => c.id), [1, 2, 8, 33, 40])
    assert.equal((await cs.getChangeSources({ active: false })).length, 35)
  })
})

onEachBackend('masterDeactivated', (test) => {
  test('releases every change source of the master in one append, in id order, and nothing else', async ({ store }) => {
    const cs = await store.open()
    for (let index = 1; index <= 5; index++) await cs.findChangeSourceId(`cs${index}`)
    for (const id of [4, 1, 3]) await cs.setChangeSourceMaster(id, 22)
    await cs.setChangeSourceMaster(2, 33)
    const head = cs.head
    assert.equal(await cs.masterDeactivated(22), [1, 3, 4])
    const appended = (await recordsOf(cs)).slice(head)
    assert.equal(
      appended.map((record) => [record.seq, record.type, 'changesourceid' in record ? record.changesourceid : null, 'reason' in record ? record.reason : null]),
      [
        [head + 1, 'MasterReleased', 1, 'master-deactivated'],
        [head + 2, 'MasterReleased', 3, 'master-deactivated'],
        [head + 3, 'MasterReleased', 4, 'master-deactivated'],
      ],
    )
    // One append: one timestamp.
    assert.is(new Set(appended.map((record) => record.timestamp)).size, 1)
    assert.equal((await cs.getChangeSources({ active: true })).map((c) => [c.id, c.masterid]), [[2, 33]])
  })

  test('a master that holds nothing: resolves [] and appends nothing', async ({ store }) => {
    const cs = await store.open()
    await cs.findChangeSourceId('a')
    assert.equal(await cs.masterDeactivated(5), [])
    assert.is(cs.head, 1)
  })
})

onEachBackend('what the queries return cannot change the projection', (test) => {
  test('change sources and records are frozen plain objects of exactly their fields', async ({ store }) => {
    const cs = await store.open()
    const records: ChangeRecord[] = []
    cs.changes$.subscribe((record) => records.push(record))
    const id = await cs.findChangeSourceId('poller')
    await cs.setChangeSourceMaster(id, 3)
    const changeSource = (await cs.getChangeSource(id))!
    assert.equal(Object.keys(changeSource).sort(), ['id', 'masterid', 'name'])
    assert.is(Object.getPrototypeOf(changeSource), Object.prototype)
    assert.ok(Object.isFrozen(changeSource))
    assert.throws(() => {
      ;(changeSource as { masterid: number | null }).masterid = null
    })
    const list = await cs.getChangeSources()
    list.pop()
    assert.is((await cs.getChangeSources()).length, 1)
    assert.is((await cs.getChangeSource(id))?.masterid, 3)
    for (const record of records) assert.ok(Object.isFrozen(record))
    assert.equal(Object.keys(records[1]!).sort(), ['changesourceid', 'hash', 'masterid', 'seq', 'timestamp', 'type', 'version'])
  })
})
