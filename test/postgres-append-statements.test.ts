// The PostgreSQL store's two append statements, on the test run's real server: a store that has not
// lost recently appends with the lean one (one record as plain parameters, several as arrays; a lost
// append answers with the head, without the missed records, and the writer reads them itself, except
// a race lost by the primary key, which reads them on the same connection); after a loss, for a
// while, with the full one, which brings the missed records back in the same round trip.
import pg from 'pg'
import * as assert from 'uvu/assert'
import { ChangeSources, type AppendOutcome, type LogStore, type StoredEntry } from '../src/index.js'
import { FULL_APPENDS_AFTER_LOSS, type PostgresLogStore } from '../src/stores/postgres/postgres-log-store.js'
import { until } from './helpers/master-processes.js'
import { postgresStoresSuite, testPostgres } from './helpers/postgres.js'

const test = postgresStoresSuite('the append statements on PostgreSQL')

const entry = (seq: number, value = `v${seq}`): StoredEntry => ({ seq, value })

async function stored(store: LogStore): Promise<StoredEntry[]> {
  const all: StoredEntry[] = []
  for await (const chunk of store.read({ from: 1 })) all.push(...chunk.map(({ seq, value }) => ({ seq, value })))
  return all
}

/**
 * Passes everything to the store but never tells of others' appends (so its writer learns of them
 * only by losing), and notes every append's outcome and every read.
 */
function deafRecordingStore(inner: PostgresLogStore): LogStore & { outcomes: AppendOutcome[]; reads: number } {
  const recording: LogStore & { outcomes: AppendOutcome[]; reads: number } = {
    outcomes: [] as AppendOutcome[],
    reads: 0,
    writers: inner.writers,
    head: () => inner.head(),
    read(range) {
      recording.reads += 1
      return inner.read(range)
    },
    async append(entries, expectedHead) {
      const outcome = await inner.append(entries, expectedHead)
      recording.outcomes.push(outcome)
      return outcome
    },
    onAppended: () => () => {},
    writeSnapshot: inner.writeSnapshot.bind(inner),
    readSnapshot: inner.readSnapshot.bind(inner),
    close: async () => {},
  }
  return recording
}

test("a store's first append, lost through the lean statement, stores nothing and answers with the head, without the missed records", async ({ open }) => {
  const [winner, loser] = [await open({ pollIntervalMs: 50 }), await open({ pollIntervalMs: 50 })]
  assert.equal(await winner.append([entry(1), entry(2)], 0), { appended: true })
  assert.equal(await loser.append([entry(1, 'late')], 0), { appended: false, head: 2 }, 'lost: the head, no missed records')
  assert.equal(await stored(loser), [entry(1), entry(2)], 'nothing of the lost append stored')
})

test('the lean statement, for one record and for several, stores values exactly or, when it loses, nothing', async ({ open }) => {
  const [winner, loser] = [await open({ pollIntervalMs: 50 }), await open({ pollIntervalMs: 50 })]
  // Characters that an array literal quotes or escapes, and others beyond ASCII.
  const awkward = ['{"a":"b\\"c"}', '{x,y} NULL "', 'back\\slash \\\\ and \'quote\'', 'ünïcödé ⌘ 🐘']
  assert.equal(await winner.append([entry(1, awkward[0])], 0), { appended: true }, 'one record')
  assert.equal(await winner.append([entry(2, awkward[1]), entry(3, awkward[2]), entry(4, awkward[3])], 1), { appended: true }, 'several records')
  assert.equal(await loser.append([entry(2, 'late'), entry(3, 'late')], 1), { appended: false, head: 4 }, 'several records, lost')
  assert.equal(await winner.append([entry(4, 'late')], 3), { appended: false, head: 4 }, 'one record, lost')
  assert.equal(await stored(loser), awkward.map((value, index) => entry(index + 1, value)))
})

test('a race lost by the primary key (another writer committed the same seqs while the statement ran) answers with the missed records', async ({ open }) => {
  const { url } = await testPostgres()
  const store = await open({ pollIntervalMs: 50 })
  assert.equal(await store.append([entry(1)], 0), { appended: true })
  const [rival, watcher] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })]
  await Promise.all([rival.connect(), watcher.connect()])
  try {
    // The rival's rows are not committed: the store's head check passes, and its insert waits on them.
    await rival.query('BEGIN')
    await rival.query(`INSERT INTO ${store.names.log} (seq, value) VALUES (2, 'rival'), (3, 'rival too')`)
    const appending = store.append([entry(2, 'late')], 1)
    await until(
      async () => (await watcher.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%'")).rowCount === 1,
      "the store's insert to wait on the rival's rows",
    )
    await rival.query('COMMIT')
    assert.equal(await appending, { appended: false, head: 3, missed: [entry(2, 'rival'), entry(3, 'rival too')] })
  } finally {
    await Promise.allSettled([rival.end(), watcher.end()])
  }
  assert.equal(await stored(store), [entry(1), entry(2, 'rival'), entry(3, 'rival too')], 'nothing of the lost append stored')
})

test("a writer whose first append loses through the lean statement reads what it missed itself, and its command goes through", async ({ open, schema }) => {
  const { url } = await testPostgres()
  const recording = deafRecordingStore(await open({ pollIntervalMs: 50 }))
  const behind = await ChangeSources.open({ store: recording })
  const ahead = await ChangeSources.open({ postgres: { connectionString: url, schema, pollIntervalMs: 50 } })
  try {
    const first = await ahead.findChangeSourceId('first')
    const second = await ahead.findChangeSourceId('second')
    const readsBefore = recording.reads
    const third = await behind.findChangeSourceId('third')
    assert.equal(recording.outcomes[0], { appended: false, head: 2 }, 'its first append lost, without the missed records')
    assert.ok(recording.reads > readsBefore, 'so the writer read them itself')
    assert.equal(recording.outcomes.at(-1), { appended: true }, 'then appended after them')
    assert.is(behind.head, 3)
    assert.is(await behind.findChangeSourceId('first'), first, "the other writer's change sources are known")
    assert.is(await behind.findChangeSourceId('second'), second)
    assert.is(behind.head, 3, 'found, not registered again')
    assert.equal((await behind.getChangeSources()).map((source) => source.id).sort(), [first, second, third].sort())
  } finally {
    await Promise.allSettled([behind.close(), ahead.close()])
  }
})

test('after a loss the full statement brings the missed records back, until enough appends have gone through again', async ({ open }) => {
  const [winner, loser] = [await open({ pollIntervalMs: 50 }), await open({ pollIntervalMs: 50 })]
  assert.equal(await winner.append([entry(1), entry(2)], 0), { appended: true })
  assert.equal(await loser.append([entry(1, 'late')], 0), { appended: false, head: 2 }, 'the first loss: lean, no missed records')
  assert.equal(await winner.append([entry(3)], 2), { appended: true })
  assert.equal(
    await loser.append([entry(3, 'late')], 2),
    { appended: false, head: 3, missed: [entry(3)] },
    'the next loss brings back what it missed, the stored entries',
  )
  assert.equal(await loser.append([entry(1, 'late')], 0), { appended: false, head: 3, missed: [entry(1), entry(2), entry(3)] }, 'from the expected head on')
  let head = 3
  for (let appended = 0; appended < FULL_APPENDS_AFTER_LOSS; appended++, head++) {
    assert.equal(await loser.append([entry(head + 1)], head), { appended: true })
  }
  assert.equal(await winner.append([entry(head, 'late')], head - 1), { appended: false, head }, "the winner, which has not lost, still loses without them")
  assert.equal(await loser.append([entry(head, 'late')], head - 1), { appended: false, head }, 'the loser, its losses behind it, is lean again')
  assert.equal(await stored(winner), Array.from({ length: head }, (_, index) => entry(index + 1)), 'only the appends that went through are stored')
})

test.run()
