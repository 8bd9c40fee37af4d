// How a process on PostgreSQL learns of others' records when its news is disturbed, on the test
// run's real server: a head learnt while reads fail is not forgotten (the periodic check brings the
// process up to date once reads work again), and the periodic check alone brings a process up to
// date while its LISTEN connection cannot come back.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { eventually, settle } from './helpers/backends.js'
import { checkConverged, MasterProcess, terminateBackends } from './helpers/master-processes.js'
import { dropSchema, testPostgres, withClient } from './helpers/postgres.js'
import { TEST_ROLE } from './helpers/postgres-server.js'

const POLL_MS = 50

const test = suite('following other writers on PostgreSQL')

test('a head learnt from a notification while reads fail is caught up to once reads work again', async () => {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  // One connection for the reader's queries: while the test holds it, its reads time out. Its
  // LISTEN connection is its own, so the notification still arrives.
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

test.run()
