// Snapshots (issue 5): written with the record that completes them, loaded on open so that only the
// tail is folded (counted, not timed), and ignored — never trusted, never fatal — when missing,
// damaged, of another schema version, or not matching the log.
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode, type ChangeSource } from '../src/index.js'
import { getChangeSource, getChangeSources } from '../src/domain/projection.js'
import { sha256 } from '../src/sha256.js'
import {
  CLAIMS_PREFIX,
  claimsPartName,
  ROWS_PREFIX,
  digestOf,
  headChecksum,
  namesPartName,
  pageOf,
  partNamesOf,
  rowsPartName,
  type SnapshotHead,
} from '../src/snapshots/snapshot.js'
import { SCHEMA_VERSION } from '../src/domain/events.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend, type TestStore } from './helpers/backends.js'
import { HEAD_KEY, onRawDb, restoreOf, rewritePartPassingChecks } from './helpers/raw-snapshot.js'
import { LONG } from './helpers/long.js'

/** 30 registrations and claims, then master 2 deactivated: 60 + 10 records, a snapshot every 25. */
async function build(store: TestStore): Promise<{ everything: ChangeSource[]; head: number }> {
  const cs = await store.open({ snapshotEvery: 25, sync: false })
  for (let index = 0; index < 30; index++) {
    const id = await cs.findChangeSourceId(`source-${index}`)
    await cs.setChangeSourceMaster(id, 1 + (index % 3))
  }
  await cs.masterDeactivated(2)
  const result = { everything: await cs.getChangeSources(), head: cs.head }
  await cs.close()
  return result
}

/** Opens, and tells how many records the open folded and whether it used a snapshot. */
async function reopen(store: TestStore): Promise<{ folded: number; usedSnapshot: boolean; everything: ChangeSource[]; cs: ChangeSources }> {
  const { recordsFolded, snapshot } = await restoreOf(store)
  const cs = await store.open({ snapshotEvery: 25 })
  return { folded: recordsFolded, usedSnapshot: snapshot.used, everything: await cs.getChangeSources(), cs }
}

async function rewriteHead(store: TestStore, change: (head: SnapshotHead) => Partial<SnapshotHead>, rechecksum = true): Promise<void> {
  await onRawDb(store, async (db) => {
    const head = JSON.parse((await db.get(HEAD_KEY))!) as SnapshotHead
    const changed = { ...head, ...change(head) }
    await db.put(HEAD_KEY, JSON.stringify(rechecksum ? { ...changed, checksum: headChecksum(changed) } : changed))
  })
}

onEachBackend('snapshots', (test) => {
  test('open folds only the records after the newest snapshot, and gets the same state as a full replay', async ({ store }) => {
    const { everything, head } = await build(store)
    assert.is(head, 70)
    const reopened = await reopen(store)
    assert.ok(reopened.usedSnapshot)
    // Snapshots at 25 and 50; the deactivation batch (61…70) crosses no multiple of 25: 20 records after the snapshot.
    assert.is(reopened.folded, 20)
    assert.equal(reopened.everything, everything)
    // Writes go on from the restored state, and the next snapshot builds on the loaded one.
    for (let id = 1; id <= 12; id++) await reopened.cs.setChangeSourceMaster(id, null).catch(() => {})
    const after = await reopened.cs.getChangeSources()
    const head2 = reopened.cs.head
    await reopened.cs.close()
    const again = await reopen(store)
    assert.ok(again.usedSnapshot)
    assert.is(again.folded, head2 % 25 === 0 ? 0 : head2 - Math.floor(head2 / 25) * 25)
    assert.equal(again.everything, after)
  })

  test('snapshotEvery: 0 writes none, and open folds the whole log', async ({ store }) => {
    const cs = await store.open({ snapshotEvery: 0 })
    for (let index = 0; index < 10; index++) await cs.findChangeSourceId(`s${index}`)
    await cs.close()
    assert.equal(await onRawDb(store, (db) => db.keys({ gte: 'snapshot!', lt: 'snapshot!~' }).all()), [])
    const reopened = await reopen(store)
    assert.is(reopened.folded, 10)
    assert.not.ok(reopened.usedSnapshot)
    await rejectsWith(() => store.open({ snapshotEvery: -1 }), ErrorCode.invalidArgument)
    await rejectsWith(() => store.open({ snapshotEvery: 1.5 }), ErrorCode.invalidArgument)
  })

  const damages: Array<[string, (store: TestStore) => Promise<void>]> = [
    ['missing', (store) => onRawDb(store, (db) => db.del(HEAD_KEY))],
    ['a head that is not JSON', (store) => onRawDb(store, (db) => db.put(HEAD_KEY, '{"seq":'))],
    ['a head that fails its checksum', (store) => rewriteHead(store, (head) => ({ nextId: head.nextId + 1 }), false)],
    ['of another schema version', (store) => rewriteHead(store, () => ({ schemaVersion: SCHEMA_VERSION + 1 }))],
    ['whose hash is not the log’s', (store) => rewriteHead(store, () => ({ hash: 'f'.repeat(64) }))],
    ['past the end of the log', (store) => rewriteHead(store, (head) => ({ seq: head.seq + 5 }))],
    ['with a page missing', (store) => onRawDb(store, async (db) => db.del(`snapshot!${ROWS_PREFIX}00000000`))],
    ['with a claims page missing', (store) => onRawDb(store, async (db) => db.del(`snapshot!${CLAIMS_PREFIX}00000000`))],
    [
      'with a page changed (a holder rewritten)',
      (store) =>
        onRawDb(store, async (db) => {
          const key = `snapshot!${CLAIMS_PREFIX}00000000`
          const claims = JSON.parse((await db.get(key))!) as number[]
          claims[1] = 9
          await db.put(key, JSON.stringify(claims))
        }),
    ],
    // Format 2 kept claims inside the rows pages; its pages are rewritten by the first snapshot of format 3.
    ['of format 2', (store) => rewriteHead(store, () => ({ format: 2 }))],
  ]
  for (const [name, damage] of damages) {
    test(`a snapshot ${name} is ignored: open replays the whole log and gets the same state`, async ({ store }) => {
      const { everything, head } = await build(store)
      await damage(store)
      const reopened = await reopen(store)
      assert.not.ok(reopened.usedSnapshot)
      assert.is(reopened.folded, head)
      assert.equal(reopened.everything, everything)
      // The next snapshot replaces the damaged one with a whole one.
      await reopened.cs.findChangeSourceId('one more')
      for (let index = 0; index < 25; index++) await reopened.cs.findChangeSourceId(`more-${index}`)
      const expected = await reopened.cs.getChangeSources()
      await reopened.cs.close()
      const fixed = await reopen(store)
      assert.ok(fixed.usedSnapshot)
      assert.equal(fixed.everything, expected)
    })
  }
}, { levelOnly: true })

onEachBackend('snapshots: pages that pass their checksum and do not parse, and older formats', (test) => {
  for (const [part, value] of [
    [rowsPartName(0), '[[],[]]'],
    [claimsPartName(0), '{"not":"claims"}'],
  ]) {
    test(`a malformed page (${part}) that the tail reaches costs open its snapshot: it folds the whole log`, async ({ store }) => {
      const { everything, head } = await build(store)
      // The tail after the snapshot at 50 (master 2 deactivated) releases change sources on rows page 0.
      await rewritePartPassingChecks(store, part!, value!)
      const reopened = await reopen(store)
      assert.not.ok(reopened.usedSnapshot)
      assert.is(reopened.folded, head)
      assert.equal(reopened.everything, everything)
      await reopened.cs.close()
    })
  }

  test('a malformed page that only a query reaches fails that query with CHANGESOURCES_CORRUPT_LOG, and nothing else', async ({ store }) => {
    await build(store)
    // A snapshot at the head, so that open folds no record: a registration folded would reach the names.
    const writer = await store.open({ snapshotEvery: 1 })
    await writer.setChangeSourceMaster(1, null)
    const everything = await writer.getChangeSources()
    await writer.close()
    // 30 names: one names part holds all their pages.
    const part = namesPartName(0)
    assert.equal(partNamesOf(await onRawDb(store, async (db) => JSON.parse((await db.get(HEAD_KEY))!) as SnapshotHead)).names, [part])
    await rewritePartPassingChecks(store, part, '{"not":"a page"}')
    const reopened = await reopen(store)
    assert.ok(reopened.usedSnapshot)
    assert.equal(reopened.everything, everything)
    const error = await rejectsWith(() => reopened.cs.findChangeSourceId('source-5'), ErrorCode.corruptLog)
    assert.match(error.message, part)
    // The rows still answer, and writes that do not reach the names go on.
    assert.equal(await reopened.cs.getChangeSource(3), everything[2])
    await reopened.cs.setChangeSourceMaster(1, 2)
    assert.is((await reopened.cs.getChangeSource(1))!.masterid, 2)
    await reopened.cs.close()
  })

  test('a stored part that the head does not name is skipped, and the next snapshot deletes it', async ({ store }) => {
    const { everything } = await build(store)
    const strayKey = await onRawDb(store, async (db) => {
      const head = JSON.parse((await db.get(HEAD_KEY))!) as SnapshotHead
      // The 30 names, and the 25 to come, all fit in names part 0: a part 1, as a snapshot of
      // another log that was never used leaves, and a claims page of a page without claims.
      assert.equal(partNamesOf(head).names, [namesPartName(0)])
      assert.equal(partNamesOf(head).claims, ['claims!00000000'])
      for (const key of [`snapshot!${namesPartName(1)}`, 'snapshot!claims!00000001']) await db.put(key, '[0,123]')
      return `snapshot!${namesPartName(1)}`
    })
    const reopened = await reopen(store)
    assert.ok(reopened.usedSnapshot)
    assert.equal(reopened.everything, everything)
    for (let index = 0; index < 25; index++) await reopened.cs.findChangeSourceId(`after-${index}`)
    await reopened.cs.close()
    assert.is(await onRawDb(store, (db) => db.get(strayKey)), undefined)
    assert.is(await onRawDb(store, (db) => db.get('snapshot!claims!00000001')), undefined)
    const again = await reopen(store)
    assert.ok(again.usedSnapshot)
    await again.cs.close()
  })

  test('a snapshot of format 1 is ignored, and the first snapshot of the current format deletes its chunks', async ({ store }) => {
    const { everything, head } = await build(store)
    const chunkKeys = ['snapshot!chunk!00000000', 'snapshot!chunk!00000001']
    await onRawDb(store, async (db) => {
      const current = JSON.parse((await db.get(HEAD_KEY))!) as SnapshotHead
      // The head and chunks that version 1 of the format wrote (docs/log-format.md keeps its description).
      const formatOne = { format: 1, schemaVersion: 1, seq: current.seq, hash: current.hash, timestamp: current.timestamp, nextId: 31, chunkIds: 64, chunkCount: 2 }
      await db.put(HEAD_KEY, JSON.stringify({ ...formatOne, digest: 'd', checksum: 'c' }))
      for (const key of chunkKeys) await db.put(key, '[]')
    })
    const reopened = await reopen(store)
    assert.not.ok(reopened.usedSnapshot)
    assert.is(reopened.folded, head)
    assert.equal(reopened.everything, everything)
    for (let index = 0; index < 25; index++) await reopened.cs.findChangeSourceId(`after-${index}`)
    await reopened.cs.close()
    const keys = await onRawDb(store, (db) => db.keys({ gte: 'snapshot!', lt: 'snapshot!~' }).all())
    assert.equal(keys.filter((key) => key.startsWith('snapshot!chunk!')), [])
    const fixed = await reopen(store)
    assert.ok(fixed.usedSnapshot)
    await fixed.cs.close()
  })

  test('a snapshot of format 3, which kept no claim\u2019s token, since or lease, is ignored, and the next snapshot replaces it', async ({ store }) => {
    const { everything, head } = await build(store)
    // The snapshot as format 3 wrote it: claims pages of [offset, masterid, …], no lease holders in
    // the head, and the head's checksum over format 3's fields (docs/log-format.md keeps its description).
    await onRawDb(store, async (db) => {
      const current = JSON.parse((await db.get(HEAD_KEY))!) as SnapshotHead
      const { rows, claims, names } = partNamesOf(current)
      const checksums: string[] = []
      for (const name of [...rows, ...claims, ...names]) {
        let value = (await db.get(`snapshot!${name}`))!
        if (name.startsWith(CLAIMS_PREFIX)) {
          const flat = JSON.parse(value) as number[]
          value = JSON.stringify(flat.flatMap((entry, index) => (index % 5 < 2 ? [entry] : [])))
          await db.put(`snapshot!${name}`, value)
        }
        checksums.push(sha256(value))
      }
      const { leaseHolders: _, checksum: __, ...kept } = current
      const formatThree = { ...kept, format: 3, schemaVersion: 1, digest: digestOf(checksums) }
      const fields = [3, 1, kept.seq, kept.hash, kept.timestamp, kept.nextId, kept.pageKeys, kept.rowPages, kept.namePages, kept.namePagesPerPart, kept.holders, formatThree.digest]
      await db.put(HEAD_KEY, JSON.stringify({ ...formatThree, checksum: sha256(JSON.stringify(fields)) }))
    })
    const { snapshot } = await restoreOf(store)
    assert.ok(!snapshot.used && snapshot.reason === 'the snapshot is of format 3, not 4', JSON.stringify(snapshot))
    const reopened = await reopen(store)
    assert.not.ok(reopened.usedSnapshot)
    assert.is(reopened.folded, head)
    assert.equal(reopened.everything, everything)
    for (let index = 0; index < 25; index++) await reopened.cs.findChangeSourceId(`after-${index}`)
    const expected = { everything: await reopened.cs.getChangeSources(), claim: await reopened.cs.getClaim(1) }
    await reopened.cs.close()
    const fixed = await reopen(store)
    assert.ok(fixed.usedSnapshot)
    assert.equal(fixed.everything, expected.everything)
    assert.equal(await fixed.cs.getClaim(1), expected.claim)
    assert.ok(expected.claim !== null && expected.claim.token > 0)
    await fixed.cs.close()
  })
}, { levelOnly: true })

onEachBackend('snapshots at scale', (test) => {
  // A million records with CHANGESOURCES_LONG=1; by default 20 000, which proves the same property.
  const changeSources = LONG ? 500_000 : 10_000
  const every = LONG ? 10_000 : 1_000
  test(`a log of ${2 * changeSources} records: open folds fewer than ${every}`, async ({ store }) => {
    const cs = await store.open({ snapshotEvery: every, sync: false })
    const group = 2_000
    for (let first = 0; first < changeSources; first += group) {
      const work: Array<Promise<unknown>> = []
      for (let index = first; index < first + group; index++) {
        work.push(cs.findChangeSourceId(`poller:${index}`).then((id) => cs.setChangeSourceMaster(id, 1 + (index % 40))))
      }
      await Promise.all(work)
    }
    await cs.setChangeSourceMaster(7, null)
    const head = cs.head
    assert.is(head, 2 * changeSources + 1)
    const names = [7, 1500, changeSources - 3].map((id) => `poller:${id - 1}`)
    const view = async (component: ChangeSources) => ({
      one: await component.getChangeSource(7),
      all: await component.getChangeSources(),
      active: await component.getChangeSources({ active: true }),
      inactive: await component.getChangeSources({ active: false }),
      byMaster: await Promise.all(Array.from({ length: 41 }, (_, index) => component.getChangeSources({ masterid: index + 1 }))),
      ids: await Promise.all(names.map((name) => component.findChangeSourceId(name))),
    })
    const before = await view(cs)
    await cs.close()
    const reopened = await reopen(store)
    assert.ok(reopened.usedSnapshot)
    assert.ok(reopened.folded < every, `folded ${reopened.folded}`)
    assert.is(reopened.cs.head, head)
    await reopened.cs.close()
    // The snapshot is at the head but for the last release (of id 7, on rows page 0): the restore
    // parses that page and its claims page only, a read two more, and reading every change source
    // every rows page and its claims page (every page has claims), and no name page.
    let parsed = 0
    const { state } = await restoreOf(store, { onPageParsed: () => (parsed += 1) })
    assert.is(parsed, 2)
    assert.equal(getChangeSource(state, 1500), before.all[1499])
    assert.is(parsed, 4)
    assert.equal(getChangeSources(state), before.all)
    assert.is(parsed, 2 * (pageOf(changeSources) + 1))
    const lazy = await store.open({ snapshotEvery: every })
    assert.equal(await view(lazy), before)
    // A new name after a lazy open gets the next id, and an old one its own.
    assert.is(await lazy.findChangeSourceId('poller:new'), changeSources + 1)
    assert.is(await lazy.findChangeSourceId('poller:0'), 1)
    await lazy.close()
  })
}, { levelOnly: true })
