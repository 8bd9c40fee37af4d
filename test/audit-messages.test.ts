// Messages say each thing once (issue 11): verify's problem is the problem alone — the report (and
// the command, "The log is damaged at seq N: <problem>") already says where — and the errors that
// reads raise name the seq and say "damaged" once each.
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, CorruptLogError, ErrorCode } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'
import { LevelLogStore, logKey } from '../src/stores/level/level-log-store.js'
import { encodeRecord, stampEvent } from '../src/log/record-codec.js'
import { loadSnapshot } from '../src/snapshots/snapshot-loader.js'
import { claimed } from './helpers/fixtures.js'

type Damage = (db: MemoryLevel<string, string>, stored: readonly string[]) => Promise<void>

const damages: ReadonlyArray<[string, Damage]> = [
  ['not JSON', (db) => db.put(logKey(2), '{not json')],
  ['a changed field (the chain breaks)', (db, stored) => db.put(logKey(2), stored[1]!.replace('"masterid":7', '"masterid":8'))],
  ['a newer schema version', (db, stored) => db.put(logKey(2), stored[1]!.replace('"version":1', '"version":99'))],
  ['a gap', (db) => db.del(logKey(2))],
  [
    'two records swapped',
    async (db, stored) => {
      await db.put(logKey(2), stored[2]!)
      await db.put(logKey(3), stored[1]!)
    },
  ],
  [
    'a record the rules could not have produced (chained, but a second claim)',
    async (db, stored) => {
      const previousHash = (JSON.parse(stored[1]!) as { hash: string }).hash
      await db.put(logKey(3), encodeRecord(stampEvent(claimed(1, 8), 3, 0, previousHash)))
    },
  ],
]

function count(text: string, part: string): number {
  return text.split(part).length - 1
}

for (const [name, damage] of damages) {
  test(`${name}: verify's problem does not repeat the seq, and the error a read raises says each thing once`, async () => {
    const db = new MemoryLevel<string, string>()
    const cs = await ChangeSources.open({ db, snapshotEvery: 0 })
    const a = await cs.findChangeSourceId('a')
    await cs.setChangeSourceMaster(a, 7)
    await cs.setChangeSourceMaster(a, null)
    await cs.close()
    const stored = await Promise.all([1, 2, 3].map(async (seq) => (await db.get(logKey(seq)))!))
    await damage(db, stored)
    const log = await AuditLog.open({ db })
    const report = await log.verify()
    assert.is(report.ok, false)
    if (report.ok) return
    const line = `The log is damaged at seq ${report.seq}: ${report.problem}`
    assert.is(count(line, `seq ${report.seq}`), 1, line)
    assert.is(count(line.toLowerCase(), 'damaged'), 1, line)
    let thrown: unknown
    await log.at({ seq: log.head }).catch((error: unknown) => (thrown = error))
    assert.ok(thrown instanceof Error, `at() on the damaged log rejects (${String(thrown)})`)
    const message = (thrown as Error).message
    assert.ok([ErrorCode.corruptLog, ErrorCode.unknownSchemaVersion].includes((thrown as unknown as { code: never }).code), message)
    assert.is(count(message, `seq ${report.seq}`), 1, message)
    assert.ok(count(message.toLowerCase(), 'damaged') <= 1, message)
    await log.close()
    await db.close()
  })
}

test("a snapshot whose record in the log does not decode is ignored for a reason that names the seq once", async () => {
  const db = new MemoryLevel<string, string>()
  const cs = await ChangeSources.open({ db, snapshotEvery: 3 })
  const a = await cs.findChangeSourceId('a')
  await cs.setChangeSourceMaster(a, 7)
  await cs.setChangeSourceMaster(a, null)
  await cs.close()
  await db.put(logKey(3), '{not json')
  const loaded = await loadSnapshot(await LevelLogStore.open(db, { sync: false }), 'head')
  assert.is(loaded.state, undefined)
  assert.ok(loaded.reason?.includes('not valid JSON'), loaded.reason)
  assert.is(count(loaded.reason!, 'seq 3'), 1, loaded.reason)
  await db.close()
})


test('a log that ends before the seq asked for (its last record gone under an open AuditLog): CorruptLogError naming the missing seq', async () => {
  const db = new MemoryLevel<string, string>()
  const cs = await ChangeSources.open({ db, snapshotEvery: 0 })
  await cs.setChangeSourceMaster(await cs.findChangeSourceId('a'), 7)
  await cs.close()
  const log = await AuditLog.open({ db })
  await db.del(logKey(2))
  const error = await rejectsWith(() => log.at({ seq: 2 }), ErrorCode.corruptLog, CorruptLogError)
  assert.is(error.seq, 2)
  await log.close()
  await db.close()
})

test.run()
