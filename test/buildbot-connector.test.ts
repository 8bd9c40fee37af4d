// Buildbot's own tests for this component (master/buildbot/test/unit/db/test_changesources.py and
// the data layer's test_changesources.py), ported case by case with their fixtures. Numbers refer
// to the list in shared/reference/buildbot-changesources.md, section 4.
import * as assert from 'uvu/assert'
import { ChangeSourceAlreadyClaimedError, ErrorCode } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend } from './helpers/backends.js'
import { ChangeSource, ChangeSourceMaster, Master, insert } from './helpers/fixtures.js'

const cs42 = ChangeSource({ id: 42, name: 'cool_source' })
const cs87 = ChangeSource({ id: 87, name: 'lame_source' })
const master13 = Master({ id: 13, active: true })
const cs42master13 = ChangeSourceMaster({ changesourceid: 42, masterid: 13 })
const master14 = Master({ id: 14, active: false })
const cs87master14 = ChangeSourceMaster({ changesourceid: 87, masterid: 14 })

onEachBackend('Buildbot db tests', (test) => {
  test('1 findChangeSourceId_new', async ({ store }) => {
    const cs = await store.open()
    const id = await cs.findChangeSourceId('csname')
    assert.is((await cs.getChangeSource(id))?.name, 'csname')
  })

  test('2 findChangeSourceId_existing', async ({ store }) => {
    const cs = await store.open()
    const id1 = await cs.findChangeSourceId('csname')
    const id2 = await cs.findChangeSourceId('csname')
    assert.is(id1, id2)
  })

  test('3 setChangeSourceMaster_fresh', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs42, master13)
    await cs.setChangeSourceMaster(id(42), 13)
    assert.is((await cs.getChangeSource(id(42)))?.masterid, 13)
  })

  test('4 setChangeSourceMaster_inactive_but_linked: the holder being inactive does not matter', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs87, master13, master14, cs87master14)
    await rejectsWith(() => cs.setChangeSourceMaster(id(87), 13), ErrorCode.alreadyClaimed, ChangeSourceAlreadyClaimedError)
  })

  test('5 setChangeSourceMaster_active', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs42, master13, cs42master13)
    await rejectsWith(() => cs.setChangeSourceMaster(id(42), 14), ErrorCode.alreadyClaimed, ChangeSourceAlreadyClaimedError)
  })

  test('6 setChangeSourceMaster_None', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs87, master14, cs87master14)
    await cs.setChangeSourceMaster(id(87), null)
    assert.is((await cs.getChangeSource(id(87)))?.masterid, null)
  })

  test('7 setChangeSourceMaster_None_unowned', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs87)
    await cs.setChangeSourceMaster(id(87), null)
    assert.is((await cs.getChangeSource(id(87)))?.masterid, null)
  })

  test('8 getChangeSource', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs87)
    assert.equal(await cs.getChangeSource(id(87)), { id: id(87), name: 'lame_source', masterid: null })
  })

  test('9 getChangeSource_missing', async ({ store }) => {
    const cs = await store.open()
    assert.is(await cs.getChangeSource(87), null)
  })

  test('10 getChangeSource_active', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs42, master13, cs42master13)
    assert.equal(await cs.getChangeSource(id(42)), { id: id(42), name: 'cool_source', masterid: 13 })
  })

  test('11 getChangeSource_inactive_but_linked', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, cs87, master14, cs87master14)
    assert.equal(await cs.getChangeSource(id(87)), { id: id(87), name: 'lame_source', masterid: 14 })
  })

  const fixture12 = [cs42, master13, cs42master13, cs87]

  test('12 getChangeSources', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...fixture12)
    assert.equal(await cs.getChangeSources(), [
      { id: id(42), name: 'cool_source', masterid: 13 },
      { id: id(87), name: 'lame_source', masterid: null },
    ])
  })

  test('13 getChangeSources_masterid', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...fixture12)
    assert.equal(await cs.getChangeSources({ masterid: 13 }), [{ id: id(42), name: 'cool_source', masterid: 13 }])
  })

  test('14 getChangeSources_active', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...fixture12)
    assert.equal(await cs.getChangeSources({ active: true }), [{ id: id(42), name: 'cool_source', masterid: 13 }])
  })

  test('15 getChangeSources_active_masterid', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...fixture12)
    assert.equal(await cs.getChangeSources({ active: true, masterid: 13 }), [{ id: id(42), name: 'cool_source', masterid: 13 }])
    assert.equal(await cs.getChangeSources({ active: true, masterid: 14 }), [])
  })

  test('16 getChangeSources_inactive', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...fixture12)
    assert.equal(await cs.getChangeSources({ active: false }), [{ id: id(87), name: 'lame_source', masterid: null }])
  })

  test('17 getChangeSources_inactive_masterid: always [] by spec', async ({ store }) => {
    const cs = await store.open()
    await insert(cs, ...fixture12)
    assert.equal(await cs.getChangeSources({ active: false, masterid: 13 }), [])
    assert.equal(await cs.getChangeSources({ active: false, masterid: 14 }), [])
  })
})

// The data layer's fixture (ChangeSourceEndpoint / ChangeSourcesEndpoint).
const dataFixture = [
  Master({ id: 22, active: false }),
  Master({ id: 33, active: true }),
  ChangeSource({ id: 13, name: 'some:changesource' }),
  ChangeSource({ id: 14, name: 'other:changesource' }),
  ChangeSourceMaster({ changesourceid: 14, masterid: 22 }),
  ChangeSource({ id: 15, name: 'another:changesource' }),
  ChangeSourceMaster({ changesourceid: 15, masterid: 33 }),
  ChangeSource({ id: 16, name: 'wholenother:changesource' }),
  ChangeSourceMaster({ changesourceid: 16, masterid: 33 }),
]

onEachBackend('Buildbot data tests', (test) => {
  test('22 get_existing', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    assert.is((await cs.getChangeSource(id(14)))?.name, 'other:changesource')
  })

  test('23 get_no_master', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    assert.is((await cs.getChangeSource(id(13)))?.masterid, null)
  })

  test('24-26 a change source under a master: only when that master holds it', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    // The endpoint /masters/m/changesources/c answers the change source when its masterid is m.
    const underMaster = async (masterid: number, changesourceid: number) => {
      const found = await cs.getChangeSource(changesourceid)
      return found !== null && found.masterid === masterid ? found : null
    }
    assert.is((await underMaster(22, id(14)))?.name, 'other:changesource')
    assert.is(await underMaster(33, id(13)), null)
    assert.is(await underMaster(25, id(13)), null)
  })

  test('27 get_missing', async ({ store }) => {
    const cs = await store.open()
    await insert(cs, ...dataFixture)
    assert.is(await cs.getChangeSource(99), null)
  })

  test('28 get', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    assert.equal(
      (await cs.getChangeSources()).map((c) => c.id),
      [id(13), id(14), id(15), id(16)],
    )
  })

  test('29 get_masterid', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    assert.equal(
      (await cs.getChangeSources({ masterid: 33 })).map((c) => c.id),
      [id(15), id(16)],
    )
  })

  test('30 get_masterid_missing', async ({ store }) => {
    const cs = await store.open()
    await insert(cs, ...dataFixture)
    assert.equal(await cs.getChangeSources({ masterid: 23 }), [])
  })

  test('34 trySetChangeSourceMaster_succeeds resolves true', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    assert.is(await cs.trySetChangeSourceMaster(id(13), 20), true)
    assert.is((await cs.getChangeSource(id(13)))?.masterid, 20)
  })

  test('35 trySetChangeSourceMaster_fails resolves false', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, ...dataFixture)
    assert.is(await cs.trySetChangeSourceMaster(id(14), 20), false)
    assert.is((await cs.getChangeSource(id(14)))?.masterid, 22)
  })

  test('36 trySetChangeSourceMaster_raisesOddException: other errors still reject', async ({ store }) => {
    const cs = await store.open()
    await insert(cs, ...dataFixture)
    await rejectsWith(() => cs.trySetChangeSourceMaster(999, 20), ErrorCode.unknownChangeSource)
  })

  test('37 _masterDeactivated releases every change source of the master', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(
      cs,
      Master({ id: 22, active: false }),
      ChangeSource({ id: 13, name: 'some:changesource' }),
      ChangeSourceMaster({ changesourceid: 13, masterid: 22 }),
      ChangeSource({ id: 14, name: 'other:changesource' }),
      ChangeSourceMaster({ changesourceid: 14, masterid: 22 }),
    )
    assert.equal(await cs.masterDeactivated(22), [id(13), id(14)])
    assert.is((await cs.getChangeSource(id(13)))?.masterid, null)
    assert.is((await cs.getChangeSource(id(14)))?.masterid, null)
  })

  test('39 activation: a change source claimed by master 93 can be taken by 824 only after release', async ({ store }) => {
    const cs = await store.open()
    const { id } = await insert(cs, Master({ id: 824 }), Master({ id: 93 }), ChangeSource({ id: 20, name: 'ChangeSource' }))
    assert.is(await cs.trySetChangeSourceMaster(id(20), 93), true)
    assert.is(await cs.findChangeSourceId('ChangeSource'), id(20))
    assert.is(await cs.trySetChangeSourceMaster(id(20), 824), false)
    assert.is(await cs.trySetChangeSourceMaster(id(20), null), true)
    assert.is(await cs.trySetChangeSourceMaster(id(20), 824), true)
  })
})
