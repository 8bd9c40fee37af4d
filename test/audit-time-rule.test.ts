// One rule for time in the audits (issue 11): the state at time T is the state after the longest
// prefix of the log whose records are all stamped at or before T, whether or not a snapshot is
// stored, on the component, offline and on an export/import copy; history's since/until cut the
// log the same way. The log below was written by a clock that jumped ahead once and came back.
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources } from '../src/index.js'
import { restoreState } from '../src/engine/restore.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'

// Stamps of seqs 1 … 6.
const STAMPS = [1_000, 1_000, 5_000, 1_000, 1_000, 1_000]

/** Six records: a registered, claimed by 7; b registered (at 5000), claimed by 7; a released; c registered. */
async function jumpyLog(snapshotEvery: number): Promise<MemoryLevel<string, string>> {
  const db = new MemoryLevel<string, string>()
  const stamps = [...STAMPS]
  const cs = await ChangeSources.open({ db, now: () => stamps.shift()!, snapshotEvery })
  const a = await cs.findChangeSourceId('a')
  await cs.setChangeSourceMaster(a, 7)
  const b = await cs.findChangeSourceId('b')
  await cs.setChangeSourceMaster(b, 7)
  await cs.setChangeSourceMaster(a, null)
  await cs.findChangeSourceId('c')
  await cs.close()
  return db
}

async function importedCopy(db: MemoryLevel<string, string>): Promise<MemoryLevel<string, string>> {
  const log = await AuditLog.open({ db })
  const lines: string[] = []
  for await (const line of log.export()) lines.push(line)
  await log.close()
  const copy = new MemoryLevel<string, string>()
  await AuditLog.import({ db: copy }, (async function* () {
    yield* lines
  })())
  return copy
}

interface Asker {
  at(target: { time: number }): Promise<{ seq: number; timestamp: number | undefined; getChangeSources(): Promise<unknown[]> }>
  history(query: object): Promise<{ records: ReadonlyArray<{ seq: number }>; claims: ReadonlyArray<{ changesourceid: number; from: { seq: number }; to: { seq: number } | null }> }>
  close(): Promise<void>
}

const logs: ReadonlyArray<[string, () => Promise<MemoryLevel<string, string>>]> = [
  ['without a snapshot', () => jumpyLog(0)],
  ['with a snapshot at seq 6', () => jumpyLog(6)],
  ['with a snapshot at seq 4', () => jumpyLog(4)],
  ['on an export/import copy (which stores a snapshot at its head)', async () => importedCopy(await jumpyLog(0))],
]
const askers: ReadonlyArray<[string, (db: MemoryLevel<string, string>) => Promise<Asker>]> = [
  ['ChangeSources', (db) => ChangeSources.open({ db, snapshotEvery: 0 })],
  ['AuditLog', (db) => AuditLog.open({ db })],
]

for (const [logName, makeLog] of logs) {
  for (const [askerName, open] of askers) {
    test(`${askerName} ${logName}: at({ time }) stops at the first record stamped after the time`, async () => {
      const db = await makeLog()
      const asker = await open(db)
      const at = async (time: number) => {
        const view = await asker.at({ time })
        return { seq: view.seq, timestamp: view.timestamp, sources: await view.getChangeSources() }
      }
      assert.equal(await at(999), { seq: 0, timestamp: undefined, sources: [] })
      assert.equal(await at(2_000), { seq: 2, timestamp: 1_000, sources: [{ id: 1, name: 'a', masterid: 7 }] })
      assert.equal(await at(4_999), { seq: 2, timestamp: 1_000, sources: [{ id: 1, name: 'a', masterid: 7 }] })
      const all = [
        { id: 1, name: 'a', masterid: null },
        { id: 2, name: 'b', masterid: 7 },
        { id: 3, name: 'c', masterid: null },
      ]
      assert.equal(await at(5_000), { seq: 6, timestamp: 1_000, sources: all })
      await asker.close()
      await db.close()
    })

    test(`${askerName} ${logName}: history's until ends at the first record stamped after it, since begins at the first stamped at or after it`, async () => {
      const db = await makeLog()
      const asker = await open(db)
      const seqs = (history: { records: ReadonlyArray<{ seq: number }> }) => history.records.map((record) => record.seq)
      const claims = (history: Awaited<ReturnType<Asker['history']>>) =>
        history.claims.map((claim) => [claim.changesourceid, claim.from.seq, claim.to?.seq ?? null])
      const until = await asker.history({ until: 2_000 })
      assert.equal(seqs(until), [1, 2])
      // The claim taken by then shows its end; the one taken after the cut is not in the window.
      assert.equal(claims(until), [[1, 2, 5]])
      const since = await asker.history({ since: 2_000 })
      assert.equal(seqs(since), [3, 4, 5, 6])
      // a was still held when the window began (at seq 3), as at({ time: 2000 }) says.
      assert.equal(claims(since), [
        [1, 2, 5],
        [2, 4, null],
      ])
      assert.equal(seqs(await asker.history({ since: 2_000, until: 4_999 })), [])
      assert.equal(seqs(await asker.history({ since: 1_000, until: 1_000 })), [1, 2])
      await asker.close()
      await db.close()
    })
  }
}

test('a stored snapshot is used for at({ time }) when every record up to it is stamped at or before the time', async () => {
  const db = await jumpyLog(6)
  const log = await AuditLog.open({ db })
  assert.is((await log.at({ time: 5_000 })).seq, 6)
  assert.is((await log.at({ time: 2_000 })).seq, 2)
  // at({ time }) restores the state at that time as restoreState does; whether it starts from the snapshot:
  const store = await LevelLogStore.open(db, { sync: false })
  const at5000 = await restoreState(store, { time: 5_000 })
  assert.ok(at5000.snapshot.used, 'all of seqs 1 … 6 are stamped at or before 5000: the snapshot answers')
  assert.is(at5000.state.seq, 6)
  const at2000 = await restoreState(store, { time: 2_000 })
  assert.not.ok(at2000.snapshot.used, 'seq 3 is stamped 5000: the snapshot at seq 6 does not answer for 2000')
  assert.is(at2000.state.seq, 2)
  await log.close()
  await db.close()
})

test.run()
