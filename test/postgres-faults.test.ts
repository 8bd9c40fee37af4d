// Faults under several master processes on one PostgreSQL log (helpers/postgres-master.ts), on the
// test run's real server: the server stopped and started mid-run, a process's connections killed
// with pg_terminate_backend, a notification lost. Each process claims and releases a change source
// of its own in a loop, retrying every command until it is acknowledged; afterwards every
// acknowledged change is in the log, nothing failed is there, and every process has the same state
// and the same changes$ (helpers/master-processes.ts checks).
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCode, type ChangeRecord, type ChangeSource } from '../src/index.js'
import { eventually, settle } from './helpers/backends.js'
import { checkConverged, listenersOf, MasterProcess, SESSION, terminateBackends, until } from './helpers/master-processes.js'
import { dropSchema, testPostgres } from './helpers/postgres.js'

const PROCESSES = 3
const POLL_MS = 100
/** Tests that stop the server need one this run started (not CHANGESOURCES_TEST_POSTGRES_URL's). */
const SERVER_OURS = !process.env.CHANGESOURCES_TEST_POSTGRES_URL
// Not APPEND_CONFLICT: a writer that keeps losing the race takes a turn, so contention alone never
// fails a command, however busy the other loops keep the head.
const FAILURE_CODES: readonly string[] = [ErrorCode.writeFailed, ErrorCode.writeOutcomeUnknown, ErrorCode.readFailed]

interface LoopSummary {
  claims: number
  releases: number
  failures: string[]
  violations: string[]
}

interface Context {
  url: string
  superuserUrl: string
  password: string
  schema: string
  masters: MasterProcess[]
  /** Each master's own change source, claimed and released by its loop. */
  own: number[]
  loops: Promise<LoopSummary>[]
}

const test = suite<Context>('faults under several master processes on PostgreSQL', {} as Context)

test.before.each(async (context) => {
  const { url, superuserUrl } = await testPostgres()
  Object.assign(context, { url, superuserUrl, password: decodeURIComponent(new URL(url).password), loops: [] })
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  context.masters = await MasterProcess.start(PROCESSES, { connectionString: url, schema: context.schema, pollIntervalMs: POLL_MS }, `fault-${context.schema}`)
  context.own = []
  for (const [index, master] of context.masters.entries()) context.own.push(await master.request<number>('find', { name: `own ${index + 1}` }))
})

test.after.each(async (context) => {
  await Promise.all(context.masters.map((master) => master.close()))
  await dropSchema(context.schema)
})

function startLoops(context: Context): void {
  context.loops = context.masters.map((master, index) => {
    const loop = master.request<LoopSummary>('loop', { cs: context.own[index], master: index + 1 })
    // A test that fails before stopAndCheck leaves its loops to the teardown's close: not unhandled.
    loop.catch(() => {})
    return loop
  })
}

/** Waits until every process has `more` acknowledged commands beyond what it has now. */
async function progress(masters: readonly MasterProcess[], more: number): Promise<void> {
  const targets = masters.map((master) => master.acks.length + more)
  await eventually(() => masters.every((master, index) => master.acks.length >= targets[index]!), `${more} more acknowledged commands in each process`, 30_000)
}

/**
 * Stops the loops and checks: every process converged (checkConverged), each own change source has
 * in the log exactly the claims and releases its loop had acknowledged (each command was retried until
 * acknowledged, so one more would be a failed command that was stored anyway, one fewer an
 * acknowledged one lost), no failure is untyped, and no message names the password.
 */
async function stopAndCheck(context: Context): Promise<{ log: ChangeRecord[]; summaries: LoopSummary[] }> {
  await Promise.all(context.masters.map((master) => master.request('stopLoops')))
  const summaries = await Promise.all(context.loops)
  const log = await checkConverged(context.masters, context.url, context.schema)
  for (const [index, summary] of summaries.entries()) {
    const name = context.masters[index]!.applicationName
    assert.equal(summary.violations, [], `${name}: no violation`)
    const ofOwn = log.filter((record) => (record.type === 'MasterClaimed' || record.type === 'MasterReleased') && record.changesourceid === context.own[index])
    assert.is(ofOwn.filter((record) => record.type === 'MasterClaimed').length, summary.claims, `${name}: the acknowledged claims, each once`)
    assert.is(ofOwn.filter((record) => record.type === 'MasterReleased').length, summary.releases, `${name}: the acknowledged releases, each once`)
    for (const code of summary.failures) assert.ok(FAILURE_CODES.includes(code), `${name}: a typed failure, not ${code}`)
  }
  for (const master of context.masters) {
    for (const message of [...(await master.request<string[]>('messages')), ...master.failures.map((failure) => failure.message)]) {
      assert.not.ok(message.includes(context.password), `the password is not in: ${message}`)
    }
  }
  return { log, summaries }
}

const stateOf = (master: MasterProcess): Promise<ChangeSource[]> => master.request<ChangeSource[]>('state')

if (SERVER_OURS) {
  test('the server stopped and started again mid-run: commands fail typed meanwhile, queries answer, each process carries on by itself', async (context) => {
    const { masters } = context
    const server = (await testPostgres()).server!
    // A master with several claims, to be deactivated while the server is down: all or nothing.
    const doomed: number[] = []
    for (const name of ['d1', 'd2', 'd3']) {
      const id = await masters[0]!.request<number>('find', { name })
      await masters[0]!.request('claim', { cs: id, master: 9 })
      doomed.push(id)
    }
    await Promise.all(masters.map((master) => master.request('catchUp')))
    startLoops(context)
    await progress(masters, 3)
    await server.stop()
    try {
      const statesWhileDown = await Promise.all(masters.map(stateOf))
      for (const state of statesWhileDown) assert.equal(state.filter((source) => doomed.includes(source.id)).map((source) => source.masterid), [9, 9, 9], 'queries answer while the server is down')
      const refusals = await Promise.all([
        masters[1]!.outcome('deactivate', { master: 9 }),
        masters[2]!.outcome('find', { name: 'registered while down' }),
      ])
      for (const code of refusals) assert.ok([ErrorCode.writeFailed, ErrorCode.writeOutcomeUnknown].includes(code as never), `a typed refusal, not ${code}`)
      await settle(3 * POLL_MS)
    } finally {
      await server.start()
    }
    await progress(masters, 3)
    const { log } = await stopAndCheck(context)
    assert.ok(masters.every((master) => master.failures.length > 0), 'every process saw its commands fail while the server was down')
    // The deactivation that failed left no trace; the registration neither.
    assert.not.ok(log.some((record) => record.type === 'MasterReleased' && record.reason === 'master-deactivated'), 'no half deactivation')
    assert.not.ok(log.some((record) => record.type === 'ChangeSourceRegistered' && record.name === 'registered while down'))
    assert.equal(await masters[1]!.request<number[]>('deactivate', { master: 9 }), doomed)
  })
} else {
  test.skip('the server stopped and started again mid-run (skipped: CHANGESOURCES_TEST_POSTGRES_URL names a server this run cannot stop)')
}

test('a process whose connections are killed with pg_terminate_backend, again and again mid-run, carries on; nothing is lost', async (context) => {
  const { masters, superuserUrl } = context
  startLoops(context)
  await progress(masters, 3)
  let terminated = 0
  for (let round = 0; round < 5; round++) {
    terminated += await terminateBackends(superuserUrl, masters[1]!.applicationName)
    await progress([masters[1]!], 2)
  }
  assert.ok(terminated >= 5, `killed ${terminated} backends`)
  await stopAndCheck(context)
})

test('a lost notification: the session (the connection that listens) killed, a record appended meanwhile reaches the process anyway', async (context) => {
  const { masters, superuserUrl } = context
  const [writer, reader] = masters as [MasterProcess, MasterProcess]
  for (let round = 1; round <= 5; round++) {
    assert.is(await terminateBackends(superuserUrl, reader.applicationName, SESSION), 1, 'the reader had one session')
    const id = await writer.request<number>('find', { name: `while deaf ${round}` })
    await until(async () => (await stateOf(reader)).some((source) => source.id === id), `the reader to learn of registration ${round}`)
    await until(async () => (await listenersOf(superuserUrl, reader.applicationName)) === 1, 'the reader to listen again', 10_000, POLL_MS)
  }
  startLoops(context)
  await progress(masters, 2)
  await stopAndCheck(context)
})

test.run()
