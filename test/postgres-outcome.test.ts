// An append whose connection is lost after its commit, made deterministic on the test run's real
// server: with synchronous_standby_names naming a standby that never comes, a durable commit is
// written locally and then waits; killing its backend (or stopping the server) at that point leaves
// the batch committed with no answer sent. The store must find out: acknowledged when the server
// can be asked at once (pg_terminate_backend), WRITE_OUTCOME_UNKNOWN when it cannot (server stopped),
// then folded in, once, when the server is back.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode, isChangeSourcesError, type ChangeRecord } from '../src/index.js'
import { logRecords, until } from './helpers/master-processes.js'
import { dropSchema, testPostgres } from './helpers/postgres.js'

const SERVER_OURS = !process.env.CHANGESOURCES_TEST_POSTGRES_URL

interface Context {
  url: string
  superuser: pg.Client
  schema: string
  applicationName: string
  cut: ChangeSources
  observer: ChangeSources
  seenByCut: ChangeRecord[]
  seenByObserver: ChangeRecord[]
}

const test = suite<Context>('an append cut off after its commit', {} as Context)

test.before.each(async (context) => {
  const { url, superuserUrl } = await testPostgres()
  context.url = url
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  context.applicationName = `cut-${context.schema}`
  context.superuser = new pg.Client({ connectionString: superuserUrl })
  await context.superuser.connect()
  context.cut = await ChangeSources.open({ postgres: { connectionString: url, schema: context.schema, pollIntervalMs: 50, application_name: context.applicationName } })
  context.observer = await ChangeSources.open({ postgres: { connectionString: url, schema: context.schema, pollIntervalMs: 50 } })
  context.seenByCut = []
  context.seenByObserver = []
  context.cut.changes$.subscribe((record) => context.seenByCut.push(record))
  context.observer.changes$.subscribe((record) => context.seenByObserver.push(record))
})

test.after.each(async (context) => {
  await context.superuser.query('ALTER SYSTEM RESET synchronous_standby_names').catch(() => {})
  await context.superuser.query('SELECT pg_reload_conf()').catch(() => {})
  await context.superuser.end().catch(() => {})
  await Promise.allSettled([context.cut.close(), context.observer.close()])
  await dropSchema(context.schema)
})

/** Makes every durable commit wait for a standby that never comes (the reload checked by a probe commit). */
async function makeDurableCommitsWait(context: Context): Promise<void> {
  const { superuser } = context
  await superuser.query(`CREATE TABLE IF NOT EXISTS "${context.schema}".probe (x int)`)
  await superuser.query("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
  await superuser.query('SELECT pg_reload_conf()')
  // The reload is asynchronous: a probe commit shows when it took effect (it then waits, and is cancelled).
  const probe = new pg.Client({ connectionString: (await testPostgres()).superuserUrl })
  await probe.connect()
  try {
    const probePid = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    await until(async () => {
      let done = false
      const insert = probe.query(`INSERT INTO "${context.schema}".probe VALUES (1)`).finally(() => (done = true))
      let waiting = false
      await until(async () => {
        waiting = (await superuser.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep'", [probePid])).rows.length > 0
        return waiting || done
      }, 'the probe to commit or to wait')
      if (waiting) await superuser.query('SELECT pg_cancel_backend($1)', [probePid])
      await insert
      return waiting
    }, 'synchronous_standby_names to take effect')
  } finally {
    await probe.end()
  }
}

/** Makes every durable commit wait for a standby that never comes; returns the claim left waiting and its backend. */
async function claimLeftWaiting(context: Context, id: number): Promise<{ claim: Promise<unknown>; pid: number }> {
  const { superuser } = context
  await makeDurableCommitsWait(context)
  const claim = context.cut.setChangeSourceMaster(id, 1).then(
    () => 'acknowledged',
    (error: unknown) => error,
  )
  let pid = 0
  await until(async () => {
    const found = await superuser.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'SyncRep'", [context.applicationName])
    pid = found.rows[0]?.pid ?? 0
    return pid !== 0
  }, 'the claim to wait for the standby')
  return { claim, pid }
}

/** Checks the claim's record is in the log once and that both components saw it once on changes$. */
async function checkStoredOnce(context: Context, id: number): Promise<void> {
  await Promise.all([context.cut.catchUp(), context.observer.catchUp()])
  const log = await logRecords(context.url, context.schema)
  const claims = log.filter((record) => record.type === 'MasterClaimed' && record.changesourceid === id)
  assert.is(claims.length, 1, 'the claim is in the log, once')
  assert.equal(context.seenByCut, log, 'the cut component saw the log once, in order')
  assert.equal(context.seenByObserver, log, 'the observer saw the log once, in order')
  for (const component of [context.cut, context.observer]) assert.equal(await component.getChangeSource(id), { id, name: 'contested', masterid: 1 })
}

test('the backend killed after the commit: the store asks the server, finds the batch stored, and acknowledges it', async (context) => {
  const id = await context.cut.findChangeSourceId('contested')
  const { claim, pid } = await claimLeftWaiting(context, id)
  await context.superuser.query('SELECT pg_terminate_backend($1)', [pid])
  assert.is(await claim, 'acknowledged')
  await context.superuser.query('ALTER SYSTEM RESET synchronous_standby_names')
  await context.superuser.query('SELECT pg_reload_conf()')
  await checkStoredOnce(context, id)
})

if (SERVER_OURS) {
  test('the server stopped after the commit: WRITE_OUTCOME_UNKNOWN, then, with the server back, the batch is found stored and folded in once', async (context) => {
    const server = (await testPostgres()).server!
    const id = await context.cut.findChangeSourceId('contested')
    await context.observer.catchUp()
    const { claim } = await claimLeftWaiting(context, id)
    // Written now, read by the server when it starts again: the restarted server waits for no standby.
    await context.superuser.query('ALTER SYSTEM RESET synchronous_standby_names')
    await context.superuser.end()
    await server.stop()
    let outcome: unknown
    try {
      outcome = await claim
      assert.ok(isChangeSourcesError(outcome, ErrorCode.writeOutcomeUnknown), `WRITE_OUTCOME_UNKNOWN, not ${String(outcome)}`)
      assert.not.ok((outcome as Error).message.includes(new URL(context.url).password), 'the message does not name the password')
      // Meanwhile the component answers from what it knew, and writes are refused, typed.
      assert.equal(await context.cut.getChangeSource(id), { id, name: 'contested', masterid: null })
      const refused = await context.cut.findChangeSourceId('while down').catch((error: unknown) => error)
      assert.ok(isChangeSourcesError(refused, ErrorCode.writeOutcomeUnknown) || isChangeSourcesError(refused, ErrorCode.writeFailed), String(refused))
    } finally {
      await server.start()
      context.superuser = new pg.Client({ connectionString: (await testPostgres()).superuserUrl })
      await context.superuser.connect()
    }
    // By itself, without a reopen: the periodic check finds the stored batch and folds it in.
    await until(async () => (await context.cut.getChangeSource(id))?.masterid === 1, 'the cut component to fold its own batch in')
    // A retry of the claim is the holder's re-claim: it appends nothing.
    await context.cut.setChangeSourceMaster(id, 1)
    await checkStoredOnce(context, id)
    const log = await logRecords(context.url, context.schema)
    assert.not.ok(log.some((record) => record.type === 'ChangeSourceRegistered' && record.name === 'while down'), 'the refused registration is not there')
  })
} else {
  test.skip('the server stopped after the commit (skipped: CHANGESOURCES_TEST_POSTGRES_URL names a server this run cannot stop)')
}

test('sync: false commits without waiting for the standby that sync: true waits for', async (context) => {
  const relaxed = await ChangeSources.open({ postgres: { connectionString: context.url, schema: context.schema, pollIntervalMs: 50 }, sync: false })
  try {
    const quick = await relaxed.findChangeSourceId('relaxed')
    const waiting = await context.cut.findChangeSourceId('contested')
    await makeDurableCommitsWait(context)
    // Alone (a waiting commit that notified would hold back every other notifying commit).
    const answered = await Promise.race([
      relaxed.setChangeSourceMaster(quick, 2).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000).unref()),
    ])
    assert.ok(answered, 'the sync: false claim does not wait for the standby')
    assert.is((await relaxed.getChangeSource(quick))?.masterid, 2, 'the sync: false claim is acknowledged while commits wait for a standby')
    const { claim, pid } = await claimLeftWaiting(context, waiting)
    assert.ok(pid > 0, 'the sync: true claim waits for the standby (wait event SyncRep)')
    await context.superuser.query('ALTER SYSTEM RESET synchronous_standby_names')
    await context.superuser.query('SELECT pg_reload_conf()')
    assert.is(await claim, 'acknowledged', 'and is acknowledged once the wait is lifted')
  } finally {
    // Lifted before the close, which waits for a claim still waiting.
    await context.superuser.query('ALTER SYSTEM RESET synchronous_standby_names')
    await context.superuser.query('SELECT pg_reload_conf()')
    await relaxed.close()
  }
})

test.run()
