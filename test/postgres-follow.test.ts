// How a process on PostgreSQL learns of others' records when its news is disturbed, on the test
// run's real server: a head learnt while reads fail is not forgotten (the periodic check brings the
// process up to date once reads work again), and the periodic check alone brings a process up to
// date while its session (the connection that listens) cannot come back. A store is told of others' appends, not of
// its own through its own notifications.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { PostgresLogStore } from '../src/stores/postgres/postgres-log-store.js'
import { eventually, settle } from './helpers/backends.js'
import { checkConverged, listenersOf, MasterProcess, SESSION, terminateBackends, until } from './helpers/master-processes.js'
import { dropSchema, testPostgres } from './helpers/postgres.js'
import { TEST_ROLE } from './helpers/postgres-server.js'

const POLL_MS = 50

const test = suite('following other writers on PostgreSQL')

test('a head learnt from a notification while reads fail is caught up to once reads work again', async () => {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  // One connection for the reader's queries: while the test holds it, its reads time out. Its
  // session (the connection that listens) is outside the pool, so the notification still arrives.
  const readerPool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 100 })
  readerPool.on('error', () => {})
  const writer = await ChangeSources.open({ postgres: { connectionString: url, schema, pollIntervalMs: POLL_MS } })
  const reader = await ChangeSources.open({ postgres: { pool: readerPool, schema, pollIntervalMs: POLL_MS } })
  try {
    await writer.findChangeSourceId('first')
    await eventually(() => reader.head === 1, 'the reader to follow')
    const held = await readerPool.connect()
    try {
      await writer.findChangeSourceId('second')
      // Notifications, catch-ups that time out, periodic checks that time out.
      await settle(6 * POLL_MS)
      assert.is(reader.head, 1, 'the reader could not read meanwhile')
    } finally {
      held.release()
    }
    await eventually(() => reader.head === 2, 'the reader to catch up by itself once it can read', 5000)
    assert.equal(await reader.getChangeSource(2), { id: 2, name: 'second', masterid: null })
  } finally {
    await reader.close()
    await writer.close()
    await readerPool.end()
    await dropSchema(schema)
  }
})

test("a store is told of the others' appends, not of its own through its own notifications", async () => {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  // No periodic check during the test: only notifications and the first check tell a head.
  const options = { connectionString: url, schema, pollIntervalMs: 60_000 }
  const mine = await PostgresLogStore.open(options, { sync: true })
  const theirs = await PostgresLogStore.open(options, { sync: true })
  const told: number[] = []
  const stop = mine.onAppended((head) => told.push(head))
  try {
    await eventually(() => told.length === 1, 'the check of the head that starts listening')
    assert.equal(await mine.append([{ seq: 1, value: 'mine' }], 0), { appended: true })
    assert.equal(await theirs.append([{ seq: 2, value: 'theirs' }], 1), { appended: true })
    // Notifications arrive in commit order: once the other's has come, this store's own has too.
    await eventually(() => told.includes(2), "the other writer's notification")
    assert.equal(told, [0, 2])
  } finally {
    stop()
    await mine.close()
    await theirs.close()
    await dropSchema(schema)
  }
})

test('while its session cannot come back, the periodic check alone brings a process up to date', async () => {
  const { url, superuserUrl } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  const masters = await MasterProcess.start(2, { connectionString: url, schema, pollIntervalMs: POLL_MS }, `follow-${schema}`)
  const [writer, reader] = masters as [MasterProcess, MasterProcess]
  const listening = (): Promise<number> => listenersOf(superuserUrl, reader.applicationName)
  const superuser = new pg.Client({ connectionString: superuserUrl })
  await superuser.connect()
  try {
    await writer.request('find', { name: 'before' })
    await reader.request('catchUp')
    // No new connection for the test role from now on; the connections open stay. The reader's
    // session (its listening connection) is killed and cannot come back, so no notification reaches it.
    const open = await superuser.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [TEST_ROLE])
    await superuser.query(`ALTER ROLE ${TEST_ROLE} CONNECTION LIMIT ${open.rows[0]!.n - 1}`)
    try {
      assert.is(await terminateBackends(superuserUrl, reader.applicationName, SESSION), 1, 'the reader had one session')
      const id = await writer.request<number>('find', { name: 'while deaf' })
      await until(async () => (await reader.request<Array<{ id: number }>>('state')).some((source) => source.id === id), 'the reader to learn of it')
      assert.is(await listening(), 0, 'the reader learnt of it without a session')
    } finally {
      await superuser.query(`ALTER ROLE ${TEST_ROLE} CONNECTION LIMIT -1`)
    }
    await until(async () => (await listening()) === 1, 'the reader to listen again', 10_000, POLL_MS)
    await writer.request('find', { name: 'after' })
    await checkConverged(masters, url, schema)
  } finally {
    await superuser.end()
    await Promise.all(masters.map((master) => master.close()))
    await dropSchema(schema)
  }
})

test.run()
