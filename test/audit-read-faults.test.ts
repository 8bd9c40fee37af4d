// Audit reads over a database whose reads fail (issue 11): every question — at({ seq }),
// at({ time }), history(), read() — on the component and offline rejects with a ReadFailedError
// whose cause is the store's error, never with the store's raw error; and a fault in one read
// never yields a wrong answer.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, ReadFailedError } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'
import { FaultyLevel } from './helpers/faulty-level.js'

interface Reader {
  at(target: { seq: number } | { time: number }): Promise<{ seq: number; getChangeSources(): Promise<unknown[]> }>
  history(query?: object): Promise<unknown>
  read(range?: object): AsyncIterable<unknown>
}

const questions: ReadonlyArray<[string, (reader: Reader) => Promise<unknown>]> = [
  ['at({ seq: 2 })', async (reader) => (await reader.at({ seq: 2 })).getChangeSources()],
  ['at({ time: 1500 })', async (reader) => (await reader.at({ time: 1_500 })).getChangeSources()],
  ['history()', (reader) => reader.history()],
  ['history({ changesourceid: 1 })', (reader) => reader.history({ changesourceid: 1 })],
  [
    'read()',
    async (reader) => {
      const seqs: unknown[] = []
      for await (const record of reader.read()) seqs.push(record)
      return seqs
    },
  ],
]

/** A FaultyLevel holding four records stamped 1000, 1000, 2000, 2000, with a snapshot at seq 2 when `snapshotEvery` is 2. */
async function filled(snapshotEvery: number): Promise<FaultyLevel> {
  const db = new FaultyLevel()
  let clock = 1_000
  const cs = await ChangeSources.open({ db, now: () => clock, snapshotEvery })
  const a = await cs.findChangeSourceId('a')
  await cs.setChangeSourceMaster(a, 7)
  clock = 2_000
  await cs.findChangeSourceId('b')
  await cs.setChangeSourceMaster(a, null)
  await cs.close()
  return db
}

const readers: ReadonlyArray<[string, (db: FaultyLevel) => Promise<Reader & { close(): Promise<void> }>]> = [
  ['ChangeSources', (db) => ChangeSources.open({ db, snapshotEvery: 0 })],
  ['AuditLog', (db) => AuditLog.open({ db })],
]

for (const [readerName, openReader] of readers) {
  for (const snapshotEvery of [0, 2]) {
    const stored = snapshotEvery === 0 ? 'no snapshot' : 'a snapshot'
    for (const [question, ask] of questions) {
      test(`${readerName} ${question} with ${stored}, every read failing: ReadFailedError with the store's error as cause`, async () => {
        const db = await filled(snapshotEvery)
        const reader = await openReader(db)
        const cause = db.failAllReads()
        const error = await rejectsWith(() => ask(reader), ErrorCode.readFailed, ReadFailedError)
        assert.is(error.cause, cause)
        db.healReads()
        await reader.close()
        await db.close()
      })

      test(`${readerName} ${question} with ${stored}, any one read failing: ReadFailedError with the cause, or the right answer`, async () => {
        const db = await filled(snapshotEvery)
        const reader = await openReader(db)
        const expected = await ask(reader)
        const before = db.iterators
        await ask(reader)
        const reads = db.iterators - before
        assert.ok(reads >= 1)
        for (let skip = 0; skip < reads; skip++) {
          const cause = db.failRead(skip)
          let answer: unknown
          try {
            answer = await ask(reader)
          } catch (error) {
            assert.instance(error, ReadFailedError, `read ${skip}: ${String(error)}`)
            assert.is((error as ReadFailedError).cause, cause, `read ${skip}: the store's error is the cause`)
            continue
          }
          assert.equal(answer, expected, `read ${skip} failed, yet the answer is right`)
        }
        await reader.close()
        await db.close()
      })
    }
  }
}

test.run()
