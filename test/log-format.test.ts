// The log format as it is stored: keys, fields, the hash chain as docs/log-format.md defines it,
// and a log that does not read back.
import { createHash } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, CorruptLogError, ErrorCode, GENESIS_HASH, SCHEMA_VERSION, UnknownSchemaVersionError } from '../src/index.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { encodeRecord, stampEvent } from '../src/log/record-codec.js'
import { MAX_NAME_BYTES } from '../src/domain/validate.js'
import { rejectsWith } from './helpers/assertions.js'

async function storedLog(db: MemoryLevel): Promise<Array<[string, string]>> {
  return (await db.iterator({ gte: 'log!', lt: 'log!~' }).all()) as Array<[string, string]>
}

async function writtenLog(): Promise<MemoryLevel> {
  const db = new MemoryLevel()
  let clock = 1_700_000_000_000
  const cs = await ChangeSources.open({ db, now: () => clock++ })
  await cs.findChangeSourceId('a')
  await cs.findChangeSourceId('b')
  await cs.setChangeSourceMaster(2, 13)
  await cs.setChangeSourceMaster(2, null)
  await cs.setChangeSourceMaster(1, 14)
  await cs.masterDeactivated(14)
  await cs.close()
  return db
}

test('one key per record, "log!" and the seq in 16 hex digits, so LevelDB order is seq order', async () => {
  const db = new MemoryLevel()
  const cs = await ChangeSources.open({ db })
  await Promise.all(Array.from({ length: 300 }, (_, index) => cs.findChangeSourceId(`cs${index}`)))
  await cs.close()
  const keys = (await storedLog(db)).map(([key]) => key)
  assert.is(keys.length, 300)
  assert.is(keys[0], 'log!0000000000000001')
  assert.is(keys[255], 'log!0000000000000100')
  assert.equal(keys.map((key) => Number.parseInt(key.slice(4), 16)), Array.from({ length: 300 }, (_, index) => index + 1))
})

test('each record is JSON with its fields, timestamp, schema version and hash', async () => {
  const values = (await storedLog(await writtenLog())).map(([, value]) => JSON.parse(value))
  const withoutHash = values.map(({ hash, ...rest }) => rest)
  assert.equal(withoutHash, [
    { seq: 1, type: 'ChangeSourceRegistered', changesourceid: 1, name: 'a', timestamp: 1_700_000_000_000, version: 1 },
    { seq: 2, type: 'ChangeSourceRegistered', changesourceid: 2, name: 'b', timestamp: 1_700_000_000_001, version: 1 },
    { seq: 3, type: 'MasterClaimed', changesourceid: 2, masterid: 13, timestamp: 1_700_000_000_002, version: 1 },
    { seq: 4, type: 'MasterReleased', changesourceid: 2, masterid: 13, reason: 'released', timestamp: 1_700_000_000_003, version: 1 },
    { seq: 5, type: 'MasterClaimed', changesourceid: 1, masterid: 14, timestamp: 1_700_000_000_004, version: 1 },
    { seq: 6, type: 'MasterReleased', changesourceid: 1, masterid: 14, reason: 'master-deactivated', timestamp: 1_700_000_000_005, version: 1 },
  ])
  // Version 2 only added the lease shapes: these are written at version 1, as before it.
  assert.is(SCHEMA_VERSION, 2)
})

test('the hash chain: sha256(previous hash + canonical encoding), from 64 zeros', async () => {
  const values = (await storedLog(await writtenLog())).map(([, value]) => JSON.parse(value))
  let previous = '0'.repeat(64)
  for (const record of values) {
    const canonical = JSON.stringify([
      record.version,
      record.seq,
      record.timestamp,
      record.type,
      record.changesourceid,
      record.name ?? null,
      record.masterid ?? null,
      record.reason ?? null,
    ])
    const expected = createHash('sha256').update(previous + canonical).digest('hex')
    assert.is(record.hash, expected, `seq ${record.seq}`)
    previous = record.hash
  }
})

test('the canonical encoding is exactly JSON.stringify of the documented array, whatever the name', async () => {
  const { default: fc } = await import('fast-check')
  const { canonicalEncoding } = await import('../src/log/record-codec.js')
  const id = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
  const stamp = { seq: id, timestamp: fc.integer({ min: 0, max: 2 ** 50 }), version: fc.constant(1) }
  const records = fc.oneof(
    fc.record({ ...stamp, type: fc.constant('ChangeSourceRegistered' as const), changesourceid: id, name: fc.string({ unit: 'binary' }) }),
    fc.record({ ...stamp, type: fc.constant('MasterClaimed' as const), changesourceid: id, masterid: id }),
    fc.record({ ...stamp, type: fc.constant('MasterReleased' as const), changesourceid: id, masterid: id, reason: fc.constantFrom('released' as const, 'master-deactivated' as const) }),
  )
  fc.assert(
    fc.property(records, (record) => {
      const r = record as Record<string, unknown>
      const expected = JSON.stringify([r.version, r.seq, r.timestamp, r.type, r.changesourceid, r.name ?? null, r.masterid ?? null, r.reason ?? null])
      assert.is(canonicalEncoding(record), expected)
    }),
    { numRuns: 500 },
  )
})

test('a record is stored as exactly JSON.stringify of the record stampEvent made, whatever its fields', async () => {
  const { default: fc } = await import('fast-check')
  const { encodeRecord, stampEvent } = await import('../src/log/record-codec.js')
  const id = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
  const events = fc.oneof(
    fc.record({ type: fc.constant('ChangeSourceRegistered' as const), changesourceid: id, name: fc.string({ unit: 'binary' }) }),
    fc.record({ type: fc.constant('MasterClaimed' as const), changesourceid: id, masterid: id }),
    fc.record({ type: fc.constant('MasterReleased' as const), changesourceid: id, masterid: id, reason: fc.constantFrom('released' as const, 'master-deactivated' as const) }),
  )
  const timestamps = fc.oneof(fc.integer({ min: 0, max: 2 ** 50 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0))
  fc.assert(
    fc.property(events, id, timestamps, fc.string(), (event, seq, timestamp, previous) => {
      const record = stampEvent(event, seq, timestamp, previous)
      assert.is(encodeRecord(record), JSON.stringify(record))
    }),
    { numRuns: 1000 },
  )
})

async function damaged(change: (db: MemoryLevel, log: Array<[string, string]>) => Promise<void>): Promise<{ error: CorruptLogError; db: MemoryLevel; before: Array<[string, string]> }> {
  const db = await writtenLog()
  await change(db, await storedLog(db))
  const before = await storedLog(db)
  const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.corruptLog, CorruptLogError)
  // A damaged log is never written to.
  assert.equal(await storedLog(db), before)
  return { error, db, before }
}

const edit = (seq: number, rewrite: (record: Record<string, unknown>) => Record<string, unknown>) => async (db: MemoryLevel, log: Array<[string, string]>) => {
  const [key, value] = log[seq - 1]!
  await db.put(key, JSON.stringify(rewrite(JSON.parse(value))))
}

const damages: Array<[string, (db: MemoryLevel, log: Array<[string, string]>) => Promise<void>, number]> = [
  ['a changed masterid', edit(3, (record) => ({ ...record, masterid: 17 })), 3],
  ['a changed name', edit(1, (record) => ({ ...record, name: 'A' })), 1],
  ['a changed timestamp', edit(5, (record) => ({ ...record, timestamp: 0 })), 5],
  ['a missing record', async (db, log) => db.del(log[3]![0]), 4],
  ['a missing first record', async (db, log) => db.del(log[0]![0]), 1],
  ['a truncated value', async (db, log) => db.put(log[2]![0], log[2]![1].slice(0, 40)), 3],
  ['a value that is not an object', async (db, log) => db.put(log[2]![0], '[1,2,3]'), 3],
  ['a record that says another seq', edit(2, (record) => ({ ...record, seq: 3 })), 2],
  ['an unknown type', edit(2, (record) => ({ ...record, type: 'MasterStolen' })), 2],
  ['a hash that is not hex', edit(6, (record) => ({ ...record, hash: 'x' })), 6],
  ['two records swapped', async (db, log) => {
    await db.put(log[1]![0], log[2]![1])
    await db.put(log[2]![0], log[1]![1])
  }, 2],
]

for (const [title, change, seq] of damages) {
  test(`open refuses ${title}, naming seq ${seq}`, async () => {
    const { error } = await damaged(change)
    assert.is(error.seq, seq)
    assert.match(error.message, `seq ${seq}`)
  })
}

test('a record that follows the chain but breaks the rules is refused too', async () => {
  // Rewritten from seq 3 on with a valid chain: master 13 "claims" change source 9, never registered.
  const { hash } = await import('node:crypto')
  const db = await writtenLog()
  const log = await storedLog(db)
  const previous = JSON.parse(log[1]![1]).hash as string
  const forged = { seq: 3, type: 'MasterClaimed', changesourceid: 9, masterid: 13, timestamp: 1, version: 1 }
  const canonical = JSON.stringify([1, 3, 1, 'MasterClaimed', 9, null, 13, null])
  await db.put(log[2]![0], JSON.stringify({ ...forged, hash: hash('sha256', previous + canonical, 'hex') }))
  const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.corruptLog, CorruptLogError)
  assert.is(error.seq, 3)
  assert.match(error.message, 'not registered')
})

/** A log whose chain holds, written around the rules: change source 2 registered under `name`. */
async function logRegistering(name: string): Promise<{ db: MemoryLevel; lines: string[] }> {
  let previous = GENESIS_HASH
  const lines = ['a', name, 'c'].map((registeredName, index) => {
    const record = stampEvent({ type: 'ChangeSourceRegistered', changesourceid: index + 1, name: registeredName }, index + 1, 1_700_000_000_000, previous)
    previous = record.hash
    return encodeRecord(record)
  })
  const db = new MemoryLevel()
  await db.open()
  const store = await LevelLogStore.open(db, { sync: false })
  await store.append(lines.map((value, index) => ({ seq: index + 1, value })), 0)
  await store.close()
  return { db, lines }
}

async function* linesOf(lines: readonly string[]): AsyncIterable<string> {
  yield* lines
}

const namesTheRulesRefuse: Array<[string, string]> = [
  ['a lone surrogate', 'poller:\ud800'],
  ['a name of 65,537 UTF-16 units', 'x'.repeat(MAX_NAME_BYTES + 1)],
  ['a name of 32,769 units but 65,538 bytes in UTF-8', '\u00e9'.repeat(MAX_NAME_BYTES / 2 + 1)],
]

for (const [title, name] of namesTheRulesRefuse) {
  test(`a registration of ${title}, chained, is a corrupt record at its seq for open, verify and import alike`, async () => {
    const { db, lines } = await logRegistering(name)
    const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.corruptLog, CorruptLogError)
    assert.is(error.seq, 2)
    assert.match(error.message, 'name')
    const log = await AuditLog.open({ db })
    const report = await log.verify()
    await log.close()
    assert.equal({ ok: report.ok, seq: report.ok ? 0 : report.seq, code: report.ok ? '' : report.code }, { ok: false, seq: 2, code: ErrorCode.corruptLog })
    const target = new MemoryLevel()
    const imported = await rejectsWith(() => AuditLog.import({ db: target }, linesOf(lines)), ErrorCode.corruptLog, CorruptLogError)
    assert.is(imported.seq, 2)
    await Promise.all([db.close(), target.close()])
  })
}

test('a registration of a name of exactly the most bytes the rules allow is read back and found', async () => {
  const name = '\u00e9'.repeat(MAX_NAME_BYTES / 2)
  const { db } = await logRegistering(name)
  const cs = await ChangeSources.open({ db })
  assert.is(await cs.findChangeSourceId(name), 2)
  assert.is(await cs.findChangeSourceId('c'), 3)
  await cs.close()
  await db.close()
})

test('a record of a newer schema version stops open with CHANGESOURCES_UNKNOWN_SCHEMA_VERSION naming the seq', async () => {
  const db = await writtenLog()
  const log = await storedLog(db)
  await db.put(log[4]![0], JSON.stringify({ ...JSON.parse(log[4]![1]), version: SCHEMA_VERSION + 1 }))
  const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.unknownSchemaVersion, UnknownSchemaVersionError)
  assert.is(error.seq, 5)
  assert.is(error.version, SCHEMA_VERSION + 1)
})

test.run()
