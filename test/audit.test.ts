// Audits (issue 5): read, point in time against the model, history intervals, and verify finding
// the first bad seq of a tampered, shortened or reordered log — on the component and offline.
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, GENESIS_HASH, LocationNotFoundError, type ChangeSourcesFilter } from '../src/index.js'
import { logKey } from '../src/stores/level/level-log-store.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend, type TestStore } from './helpers/backends.js'
import { componentView, issue } from './helpers/drive.js'
import { cloneModel, emptyModel, modelView, step, type Model, type Op } from './helpers/model.js'
import { random } from './helpers/random.js'

const MASTERS = [1, 2, 3]


function randomOp(next: () => number, model: Model): Op {
  const pick = next()
  const id = 1 + Math.floor(next() * (model.names.length + 1))
  const master = MASTERS[Math.floor(next() * MASTERS.length)]!
  if (pick < 0.2 || model.names.length === 0) return { op: 'register', name: `source-${Math.floor(next() * 12)}` }
  if (pick < 0.6) return { op: 'tryClaim', id, master }
  if (pick < 0.9) return { op: 'release', id }
  return { op: 'deactivate', master }
}

/** Runs `body` on the raw database of a closed store: the memory-level db itself, or the LevelDB folder. */
async function onRawDb(store: TestStore, body: (db: { get(key: string): Promise<string | undefined>; put(key: string, value: string): Promise<void>; del(key: string): Promise<void> }) => Promise<void>): Promise<void> {
  if (store.where.db !== undefined) return body(store.where.db as never)
  const db = new Level<string, string>(store.where.location!)
  await db.open()
  try {
    await body(db)
  } finally {
    await db.close()
  }
}

async function asList<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = []
  for await (const item of iterable) list.push(item)
  return list
}

onEachBackend('audit: read and point in time', (test) => {
  test('read({ from, to }) yields the records in seq order, each once; a consumer may stop early', async ({ store }) => {
    const cs = await store.open()
    for (const name of ['a', 'b', 'c', 'd']) await cs.setChangeSourceMaster(await cs.findChangeSourceId(name), 7)
    assert.equal((await asList(cs.read())).map((record) => record.seq), [1, 2, 3, 4, 5, 6, 7, 8])
    assert.equal((await asList(cs.read({ from: 3, to: 5 }))).map((record) => record.seq), [3, 4, 5])
    assert.equal(await asList(cs.read({ from: 9 })), [])
    for await (const record of cs.read({ from: 2 })) {
      assert.is(record.seq, 2)
      break
    }
    await rejectsWith(() => cs.read({ from: 0 }), ErrorCode.invalidArgument)
  })

  test('at({ seq }) answers every query as the model did after that seq, live, after a reopen and offline', async ({ store }) => {
    const next = random(5)
    let model = emptyModel()
    const models: Model[] = [cloneModel(model)]
    // Small snapshots, so that the point-in-time views start from a snapshot or from seq 1.
    let cs = await store.open({ snapshotEvery: 7, sync: false })
    for (let index = 0; index < 120; index++) {
      const op = randomOp(next, model)
      const expected = step(model, op)
      assert.equal(await issue(cs, op), expected)
      while (models.length <= model.events.length) models.push(cloneModel(model))
      models[model.events.length] = cloneModel(model)
    }
    const head = cs.head
    assert.is(head, model.events.length)
    const maxId = model.names.length + 1
    const view = async (source: ChangeSources | AuditLog, seq: number) => {
      const at = await source.at({ seq })
      return componentView({ head: at.seq, getChangeSource: (id: number) => at.getChangeSource(id), getChangeSources: (filter?: ChangeSourcesFilter) => at.getChangeSources(filter) } as never, MASTERS, maxId)
    }
    const seqs = [0, 1, 2, 6, 7, 8, Math.floor(head / 2), head - 1, head]
    for (const seq of seqs) assert.equal(await view(cs, seq), modelView(models[seq]!, MASTERS, maxId), `live, at seq ${seq}`)
    await cs.close()
    cs = await store.open({ snapshotEvery: 7 })
    for (const seq of seqs) assert.equal(await view(cs, seq), modelView(models[seq]!, MASTERS, maxId), `reopened, at seq ${seq}`)
    await rejectsWith(() => cs.at({ seq: head + 1 }), ErrorCode.invalidArgument)
    await rejectsWith(() => cs.at({ seq: 1, time: 1 } as never), ErrorCode.invalidArgument)
    await cs.close()
    const log = await AuditLog.open(store.where)
    try {
      for (const seq of seqs) assert.equal(await view(log, seq), modelView(models[seq]!, MASTERS, maxId), `offline, at seq ${seq}`)
    } finally {
      await log.close()
    }
  })

  test('at({ time }) is the state after the last record stamped at or before that time', async ({ store }) => {
    let clock = 1_000
    const cs = await store.open({ now: () => clock, snapshotEvery: 2 })
    const a = await cs.findChangeSourceId('a') // seq 1 at 1000
    clock = 2_000
    await cs.setChangeSourceMaster(a, 13) // seq 2 at 2000
    clock = 3_000
    await cs.masterDeactivated(13) // seq 3 at 3000
    const at = async (time: number | Date) => {
      const view = await cs.at({ time })
      return { seq: view.seq, timestamp: view.timestamp, held: (await view.getChangeSource(a))?.masterid }
    }
    assert.equal(await at(999), { seq: 0, timestamp: undefined, held: undefined })
    assert.equal(await at(1_000), { seq: 1, timestamp: 1_000, held: null })
    assert.equal(await at(new Date(2_500)), { seq: 2, timestamp: 2_000, held: 13 })
    assert.equal(await at(9_999), { seq: 3, timestamp: 3_000, held: null })
    await rejectsWith(() => cs.at({ time: new Date('not a date') }), ErrorCode.invalidArgument)
  })
})

test('AuditLog.open on a location with no database: LocationNotFoundError, and nothing is created', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'changesources-audit-'))
  try {
    const missing = join(folder, 'nothing-here')
    const error = await rejectsWith(() => AuditLog.open({ location: missing }), ErrorCode.notFound, LocationNotFoundError)
    assert.is(error.location, missing)
    assert.not.ok(existsSync(missing))
    await rejectsWith(() => AuditLog.open({ location: missing, copy: true }), ErrorCode.notFound)
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
})

test('AuditLog export and import: the stored lines round-trip into an empty database, checked on the way', async () => {
  const source = new MemoryLevel<string, string>()
  const cs = await ChangeSources.open({ db: source, snapshotEvery: 0 })
  for (const name of ['a', 'b']) await cs.setChangeSourceMaster(await cs.findChangeSourceId(name), 3)
  await cs.close()
  const log = await AuditLog.open({ db: source })
  const lines = await asList(log.export())
  assert.equal(await asList(log.export({ from: 2, to: 3 })), lines.slice(1, 3))
  await log.close()
  const target = new MemoryLevel<string, string>()
  assert.equal(await AuditLog.import({ db: target }, toAsync(lines)), { records: 4 })
  const restored = await ChangeSources.open({ db: target })
  assert.equal(await restored.getChangeSources({ masterid: 3 }), [
    { id: 1, name: 'a', masterid: 3 },
    { id: 2, name: 'b', masterid: 3 },
  ])
  await restored.close()
  await rejectsWith(() => AuditLog.import({ db: target }, toAsync(lines)), ErrorCode.invalidArgument)
  const gap = new MemoryLevel<string, string>()
  const error = await rejectsWith(() => AuditLog.import({ db: gap }, toAsync([lines[0]!, lines[2]!])), ErrorCode.corruptLog)
  assert.is((error as unknown as { seq: number }).seq, 2)
  await Promise.all([source.close(), target.close(), gap.close()])
})

async function* toAsync<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items
}

onEachBackend('audit: history', (test) => {
  test('claims as intervals, with the reason each ended and open ones for claims still held', async ({ store }) => {
    let clock = 0
    const cs = await store.open({ now: () => clock })
    clock = 100
    const a = await cs.findChangeSourceId('a') // 1
    const b = await cs.findChangeSourceId('b') // 2
    clock = 1_000
    await cs.setChangeSourceMaster(a, 13) // 3
    await cs.setChangeSourceMaster(b, 13) // 4
    clock = 2_000
    await cs.setChangeSourceMaster(a, null) // 5
    clock = 3_000
    await cs.masterDeactivated(13) // 6: b
    clock = 4_000
    await cs.setChangeSourceMaster(a, 14) // 7

    const master13 = await cs.history({ masterid: 13 })
    assert.equal(master13.records.map((record) => record.seq), [3, 4, 5, 6])
    assert.equal(master13.claims, [
      { changesourceid: a, name: 'a', masterid: 13, token: 3, leaseMs: null, from: { seq: 3, timestamp: 1_000 }, to: { seq: 5, timestamp: 2_000, reason: 'released' } },
      { changesourceid: b, name: 'b', masterid: 13, token: 4, leaseMs: null, from: { seq: 4, timestamp: 1_000 }, to: { seq: 6, timestamp: 3_000, reason: 'master-deactivated' } },
    ])

    const sourceA = await cs.history({ name: 'a' })
    assert.equal(sourceA.records.map((record) => record.seq), [1, 3, 5, 7])
    assert.equal(sourceA.claims.map((claim) => [claim.masterid, claim.to?.reason ?? 'open']), [
      [13, 'released'],
      [14, 'open'],
    ])
    assert.equal(await cs.history({ changesourceid: a }), sourceA)

    // Who held a at 2500? Nobody; at 4500? master 14 (an open interval).
    const window = await cs.history({ changesourceid: a, since: 2_500, until: 2_600 })
    assert.equal(window.records, [])
    assert.equal(window.claims, [])
    const later = await cs.history({ changesourceid: a, since: new Date(4_500) })
    assert.equal(later.claims.map((claim) => claim.masterid), [14])
    // A claim that ends after `until` still shows its end.
    const early = await cs.history({ masterid: 13, until: 1_500 })
    assert.equal(early.records.map((record) => record.seq), [3, 4])
    assert.equal(early.claims.map((claim) => claim.to?.seq), [5, 6])

    // Up to seq 4, as at({ seq: 4 }) cuts the log: both claims still open, nothing after read.
    const toFour = await cs.history({ toSeq: 4 })
    assert.equal(toFour.records.map((record) => record.seq), [1, 2, 3, 4])
    assert.equal(toFour.claims.map((claim) => [claim.token, claim.to]), [[3, null], [4, null]])
    assert.equal(await cs.history({ masterid: 13, until: 1_500, toSeq: 5 }), { records: early.records, claims: [early.claims[0]!, { ...early.claims[1]!, to: null }] })
    assert.equal(await cs.history({ toSeq: 99 }), await cs.history(), 'a seq past the head means the head')
    assert.equal(await cs.history({ toSeq: 0 }), { records: [], claims: [] })

    assert.equal((await cs.history({ name: 'nope' })).records, [])
    assert.is((await cs.history()).records.length, 7)
    await rejectsWith(() => cs.history({ name: 'a', changesourceid: 1 }), ErrorCode.invalidArgument)
    await rejectsWith(() => cs.history({ masterid: 0 }), ErrorCode.invalidArgument)
    for (const toSeq of [-1, 1.5, '4', Number.NaN]) await rejectsWith(() => cs.history({ toSeq } as never), ErrorCode.invalidArgument)
    await cs.close()

    const log = await AuditLog.open(store.where)
    try {
      assert.equal(await log.history({ masterid: 13 }), master13)
    } finally {
      await log.close()
    }
  })
})

onEachBackend(
  'audit: verify',
  (test) => {
  async function sevenRecords(store: TestStore): Promise<string> {
    const cs = await store.open()
    for (const name of ['a', 'b', 'c']) await cs.setChangeSourceMaster(await cs.findChangeSourceId(name), 1)
    await cs.setChangeSourceMaster(1, null)
    const report = await cs.verify()
    assert.equal(report, { ok: true, length: 7, headHash: (await asList(cs.read({ from: 7 })))[0]!.hash })
    await cs.close()
    return report.headHash
  }

  async function offlineReport(store: TestStore) {
    const log = await AuditLog.open(store.where)
    try {
      return await log.verify()
    } finally {
      await log.close()
    }
  }

  test('a whole log reports its length and head hash; an empty one reports 0 and GENESIS_HASH', async ({ store }) => {
    const cs = await store.open()
    assert.equal(await cs.verify(), { ok: true, length: 0, headHash: GENESIS_HASH })
    await cs.close()
    const headHash = await sevenRecords(store)
    assert.equal(await offlineReport(store), { ok: true, length: 7, headHash })
  })

  test('a changed record: verify names its seq, offline; the component refuses to open', async ({ store }) => {
    await sevenRecords(store)
    await onRawDb(store, async (db) => {
      const stored = JSON.parse((await db.get(logKey(5)))!)
      await db.put(logKey(5), JSON.stringify({ ...stored, name: 'z' }))
    })
    const report = await offlineReport(store)
    assert.is(report.ok, false)
    assert.is(!report.ok && report.seq, 5)
    assert.is(!report.ok && report.length, 4)
    assert.match(!report.ok ? report.problem : '', /hash chain/)
    await rejectsWith(() => store.open(), ErrorCode.corruptLog)
    // The records before the damage can still be asked about.
    const log = await AuditLog.open(store.where)
    try {
      await rejectsWith(() => log.history(), ErrorCode.corruptLog)
      const before = await log.history({ toSeq: 4 })
      assert.equal(before.records.map((record) => record.seq), [1, 2, 3, 4])
      assert.equal(before.claims.map((claim) => [claim.changesourceid, claim.to?.seq ?? null]), [[1, null], [2, null]])
    } finally {
      await log.close()
    }
  })

  test('a deleted record: verify names the missing seq', async ({ store }) => {
    await sevenRecords(store)
    await onRawDb(store, (db) => db.del(logKey(3)))
    const report = await offlineReport(store)
    assert.equal(!report.ok && [report.seq, report.code], [3, ErrorCode.corruptLog])
    assert.match(!report.ok ? report.problem : '', /missing/)
  })

  test('two records swapped: verify names the first of them', async ({ store }) => {
    await sevenRecords(store)
    await onRawDb(store, async (db) => {
      const four = (await db.get(logKey(4)))!
      const six = (await db.get(logKey(6)))!
      await db.put(logKey(4), six)
      await db.put(logKey(6), four)
    })
    const report = await offlineReport(store)
    assert.equal(!report.ok && report.seq, 4)
  })

  test('a record that is not JSON, and one of an unknown schema version, are reported, not thrown', async ({ store }) => {
    await sevenRecords(store)
    await onRawDb(store, (db) => db.put(logKey(6), '{"seq":6,'))
    const notJson = await offlineReport(store)
    assert.equal(!notJson.ok && [notJson.seq, notJson.code], [6, ErrorCode.corruptLog])
    await onRawDb(store, async (db) => {
      const stored = JSON.parse((await db.get(logKey(2)))!)
      await db.put(logKey(2), JSON.stringify({ ...stored, version: 9 }))
    })
    const report = await offlineReport(store)
    assert.equal(!report.ok && [report.seq, report.code], [2, ErrorCode.unknownSchemaVersion])
    await rejectsWith(() => store.open(), ErrorCode.unknownSchemaVersion)
  })
  },
  { levelOnly: true },
)

test.run()
