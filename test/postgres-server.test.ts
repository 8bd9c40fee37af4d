// The test run's PostgreSQL server (helpers/postgres-server.ts, helpers/postgres.ts) does real work:
// two processes race INSERTs at one seq and exactly one wins each round; a NOTIFY reaches a LISTEN in
// another process; the server stops and starts again with its data; a server whose starter was
// SIGKILLed is stopped and removed by the next start.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FOLDER_PREFIX, isAlive, startPostgresServer, stopPostmaster, type PostgresServerInfo } from './helpers/postgres-server.js'
import { freshSchema, testPostgres, withClient } from './helpers/postgres.js'

const CHILD = fileURLToPath(new URL('./helpers/postgres-child.ts', import.meta.url))
const ROUNDS = 50

interface Child {
  readonly process: ChildProcessWithoutNullStreams
  next(): Promise<string>
}

function child(...args: string[]): Child {
  const process_ = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args])
  let stderr = ''
  process_.stderr.on('data', (data) => (stderr += data))
  const lines: Interface = createInterface({ input: process_.stdout })
  const iterator = lines[Symbol.asyncIterator]()
  return {
    process: process_,
    async next() {
      const { value, done } = await iterator.next()
      if (done) throw new Error(`child ${args[0]} ended: ${stderr}`)
      return value as string
    },
  }
}

test('two processes INSERT at the same seq: exactly one wins each round, the other gets 23505', async () => {
  const { url, drop } = await freshSchema()
  await withClient(url, (client) => client.query('CREATE TABLE race (seq bigint PRIMARY KEY, value text)'))
  const racers = [child('insert', url, 'a'), child('insert', url, 'b')]
  try {
    for (let seq = 1; seq <= ROUNDS; seq++) {
      for (const racer of racers) racer.process.stdin.write(`${seq}\n`)
      const answers = (await Promise.all(racers.map((racer) => racer.next()))).map((line) => line.split(' ')[1]).sort()
      assert.equal(answers, ['23505', 'won'], `round ${seq}`)
    }
    const rows = await withClient(url, (client) => client.query('SELECT count(*)::int AS n FROM race'))
    assert.is(rows.rows[0].n, ROUNDS)
  } finally {
    for (const racer of racers) racer.process.stdin.end()
    await Promise.all(racers.map((racer) => once(racer.process, 'exit')))
    await drop()
  }
})

test('a NOTIFY from this process reaches a LISTEN in another', async () => {
  const { url } = await testPostgres()
  const listener = child('listen', url, 'changes')
  try {
    assert.is(await listener.next(), 'listening')
    await withClient(url, (client) => client.query(`SELECT pg_notify('changes', 'seq 7')`))
    assert.is(await listener.next(), 'seq 7')
  } finally {
    listener.process.kill()
  }
})

const external = process.env.CHANGESOURCES_TEST_POSTGRES_URL && !process.env.CHANGESOURCES_TEST_POSTGRES_SERVER
if (external) console.log('skipped: stop/start needs the server npm test starts, not CHANGESOURCES_TEST_POSTGRES_URL')
;(external ? test.skip : test)('the server stops and starts again on its port with its data; the superuser ends backends', async () => {
  const { server, superuserUrl } = await testPostgres()
  const { url, drop } = await freshSchema()
  await withClient(url, (client) => client.query(`CREATE TABLE kept (value text); INSERT INTO kept VALUES ('before')`))
  const victim = new pg.Client({ connectionString: url })
  await victim.connect()
  const victimErrors: Error[] = []
  victim.on('error', (error) => victimErrors.push(error))
  const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
  await withClient(superuserUrl, (client) => client.query('SELECT pg_terminate_backend($1)', [pid]))
  await victim.query('SELECT 1').then(
    () => assert.unreachable('the terminated connection still answers'),
    (error: Error) => assert.match(`${error.message} ${victimErrors.join(' ')}`, /terminat/),
  )

  await server!.stop()
  assert.not.ok(await withClient(url, async () => true).catch(() => false), 'no connection while stopped')
  await server!.start()
  const rows = await withClient(url, (client) => client.query('SELECT value FROM kept'))
  assert.equal(rows.rows, [{ value: 'before' }])
  await drop()
})

test('a server whose starter was killed with SIGKILL is stopped and removed by the next start', async () => {
  // A root of its own, so that this start looks at no other run's folders.
  const root = await mkdtemp(join(tmpdir(), 'changesources-stale-test-'))
  let stale: PostgresServerInfo | undefined
  try {
    await chmod(root, 0o755) // the unprivileged server user must reach its folder inside
    const starter = child('start', root)
    stale = JSON.parse(await starter.next()) as PostgresServerInfo
    starter.process.kill('SIGKILL')
    await once(starter.process, 'exit')
    const postmaster = Number((await readFile(join(stale.folder, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0])
    assert.ok(isAlive(postmaster), 'the killed starter left its server running')

    const next = await startPostgresServer({ root })
    try {
      assert.not.ok(isAlive(postmaster), 'the stale server was stopped')
      assert.not.ok(existsSync(stale.folder), 'the stale folder was removed')
      assert.ok(next.info.folder.startsWith(join(root, FOLDER_PREFIX)))
      const answer = await withClient(next.info.url, (client) => client.query('SELECT 1 AS one'))
      assert.equal(answer.rows, [{ one: 1 }])
    } finally {
      await next.destroy()
    }
    assert.not.ok(existsSync(next.info.folder), 'destroy removed the folder')
  } finally {
    if (stale) await stopPostmaster(join(stale.folder, 'data')) // when the test failed
    await rm(root, { recursive: true, force: true })
  }
})

test.run()
