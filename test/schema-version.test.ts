// Schema versions (issue 5): a record of an unknown (newer) version stops open naming its seq; a
// record of an older version is read through an upcaster — shown here with a hypothetical version 0
// whose claim records had other field names, injected into the registry by the test.
import { hash } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, GENESIS_HASH, UnknownSchemaVersionError } from '../src/index.js'
import { logKey } from '../src/stores/level/level-log-store.js'
import { stampEvent, encodeRecord } from '../src/log/record-codec.js'
import { registerUpcaster, type RawRecord } from '../src/log/upcasters.js'
import { SCHEMA_VERSION } from '../src/domain/events.js'
import { rejectsWith } from './helpers/assertions.js'

// Version 0, as this test imagines it: {"v":0,"n":seq,"at":ms,"op":"claim","cs":id,"by":master,"hash":…},
// hashed over [v, n, at, op, cs, by].
const version0 = {
  canonicalEncoding: (raw: RawRecord) => {
    if (raw.op !== 'claim' && raw.op !== 'release') throw new Error('not a version 0 record')
    return JSON.stringify([raw.version, raw.seq, raw.at, raw.op, raw.cs, raw.by])
  },
  upcast: (raw: RawRecord): RawRecord =>
    raw.op === 'claim'
      ? { type: 'MasterClaimed', changesourceid: raw.cs, masterid: raw.by, timestamp: raw.at }
      : { type: 'MasterReleased', changesourceid: raw.cs, masterid: raw.by, reason: 'released', timestamp: raw.at },
}

/** seq 1: a version 1 registration; seq 2: a version 0 claim; seq 3: a version 1 release — one chain. */
async function mixedLog(): Promise<MemoryLevel<string, string>> {
  const db = new MemoryLevel<string, string>()
  const first = stampEvent({ type: 'ChangeSourceRegistered', changesourceid: 1, name: 'old' }, 1, 1_000, GENESIS_HASH)
  const old = { version: 0, seq: 2, at: 2_000, op: 'claim', cs: 1, by: 13 }
  const oldHash = hash('sha256', first.hash + JSON.stringify([0, 2, 2_000, 'claim', 1, 13]), 'hex')
  const third = stampEvent({ type: 'MasterReleased', changesourceid: 1, masterid: 13, reason: 'released' }, 3, 3_000, oldHash)
  await db.put(logKey(1), encodeRecord(first))
  await db.put(logKey(2), JSON.stringify({ ...old, hash: oldHash }))
  await db.put(logKey(3), encodeRecord(third))
  return db
}

test('a record of an older version is chain-checked in its own encoding, upcast, and replayed', async () => {
  const db = await mixedLog()
  const unregister = registerUpcaster(0, version0)
  try {
    const cs = await ChangeSources.open({ db, snapshotEvery: 0 })
    assert.is(cs.head, 3)
    assert.equal(await cs.getChangeSource(1), { id: 1, name: 'old', masterid: null })
    assert.equal((await (await cs.at({ seq: 2 })).getChangeSource(1))?.masterid, 13)
    const history = await cs.history({ changesourceid: 1 })
    assert.equal(history.claims.map((claim) => [claim.masterid, claim.from.timestamp, claim.to?.reason]), [[13, 2_000, 'released']])
    // The upcast record is in the current shape, and keeps its stored seq and hash.
    const [, upcast] = history.records
    assert.equal({ ...upcast }, { type: 'MasterClaimed', changesourceid: 1, masterid: 13, seq: 2, timestamp: 2_000, version: 1, hash: upcast!.hash })
    assert.equal((await cs.verify()).ok, true)
    await cs.close()
    // A changed old record breaks the chain as a new one would.
    await db.put(logKey(2), (await db.get(logKey(2)))!.replace('"by":13', '"by":14'))
    const log = await AuditLog.open({ db })
    const report = await log.verify()
    assert.equal(!report.ok && [report.seq, report.code], [2, ErrorCode.corruptLog])
    await log.close()
  } finally {
    unregister()
    await db.close()
  }
})

test('without its upcaster, an older version is a corrupt record, named by seq', async () => {
  const db = await mixedLog()
  const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.corruptLog)
  assert.is((error as unknown as { seq: number }).seq, 2)
  await db.close()
})

test('a record of a newer version stops open with UnknownSchemaVersionError naming the seq', async () => {
  const db = new MemoryLevel<string, string>()
  const first = stampEvent({ type: 'ChangeSourceRegistered', changesourceid: 1, name: 'a' }, 1, 1_000, GENESIS_HASH)
  await db.put(logKey(1), encodeRecord(first))
  await db.put(logKey(2), JSON.stringify({ version: SCHEMA_VERSION + 1, seq: 2, something: 'new' }))
  const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.unknownSchemaVersion, UnknownSchemaVersionError)
  assert.equal([error.seq, error.version], [2, SCHEMA_VERSION + 1])
  await db.close()
})

test('an upcaster is only for versions below the ones read as they are (1 and 2)', () => {
  assert.throws(() => registerUpcaster(1, version0), RangeError)
  assert.throws(() => registerUpcaster(2, version0), RangeError)
})

test.run()
