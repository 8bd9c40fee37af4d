// Several masters as OS processes on one PostgreSQL log (helpers/postgres-master.ts), on the test
// run's real server: racing claims have one winner, racing registrations one id, a SIGKILLed
// master's claims are released by another's masterDeactivated, and every process's changes$ is the
// log's history, each record once, with every acknowledged change in it. Also: a schema of a newer
// version is refused and left as it was, and first opens of one schema at once all succeed.
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, isChangeSourcesError, type ChangeSource } from '../src/index.js'
import { runs } from './helpers/long.js'
import { checkConverged, MasterProcess, until } from './helpers/master-processes.js'
import { dropSchema, testPostgres, withClient } from './helpers/postgres.js'
import { restoreState } from '../src/engine/restore.js'
import { PostgresLogStore } from '../src/stores/postgres/postgres-log-store.js'

const PROCESSES = 4
const ROUNDS = runs(25, 300)

interface Context {
  url: string
  schema: string
  masters: MasterProcess[]
}

const test = suite<Context>('several master processes on one PostgreSQL log', {} as Context)

test.before.each(async (context) => {
  context.url = (await testPostgres()).url
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  // Every process opens the new schema at once: first opens race (the advisory lock orders them).
  context.masters = await MasterProcess.start(PROCESSES, { connectionString: context.url, schema: context.schema })
})

test.after.each(async (context) => {
  await Promise.all(context.masters.map((master) => master.close()))
  await dropSchema(context.schema)
})

test(`${PROCESSES} processes race to claim one change source, ${ROUNDS} rounds: one winner each time, the others get ALREADY_CLAIMED`, async ({ masters, url, schema }) => {
  const id = await masters[0]!.request<number>('find', { name: 'contested' })
  const winners: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const outcomes = await Promise.all(masters.map((master, index) => master.outcome('claim', { cs: id, master: index + 1 })))
    const winner = outcomes.indexOf('ok')
    assert.equal(
      [...outcomes].sort(),
      ['ok', ...Array<string>(PROCESSES - 1).fill(ErrorCode.alreadyClaimed)].sort(),
      `round ${round}: ${outcomes.join(', ')}`,
    )
    winners.push(winner + 1)
    await masters[winner]!.request('release', { cs: id })
  }
  const log = await checkConverged(masters, url, schema)
  const claims = log.filter((record) => record.type === 'MasterClaimed')
  assert.equal(claims.map((record) => record.type === 'MasterClaimed' && record.masterid), winners, 'one claim record a round, by its winner')
})

test(`${PROCESSES} processes race to register one name, ${ROUNDS} rounds: one id in every process`, async ({ masters, url, schema }) => {
  for (let round = 1; round <= ROUNDS; round++) {
    const ids = await Promise.all(masters.map((master) => master.request<number>('find', { name: `name ${round}` })))
    assert.equal(ids, Array<number>(PROCESSES).fill(round), `round ${round}: ${ids.join(', ')}`)
  }
  const log = await checkConverged(masters, url, schema)
  assert.equal(
    log.map((record) => record.type === 'ChangeSourceRegistered' && `${record.changesourceid} ${record.name}`),
    Array.from({ length: ROUNDS }, (_, index) => `${index + 1} name ${index + 1}`),
    'one registration a name',
  )
})

test('a master SIGKILLed while it holds claims: another deactivates it, every remaining process sees its change sources released', async ({ masters, url, schema }) => {
  const [doomed, deactivating, ...others] = masters as [MasterProcess, MasterProcess, ...MasterProcess[]]
  const held = []
  for (const name of ['a', 'b', 'c']) {
    const id = await doomed.request<number>('find', { name })
    await doomed.request('claim', { cs: id, master: 1 })
    held.push(id)
  }
  const kept = await deactivating.request<number>('find', { name: 'kept' })
  await deactivating.request('claim', { cs: kept, master: 2 })
  await doomed.kill()
  const released = await deactivating.request<number[]>('deactivate', { master: 1 })
  assert.equal(released, held)
  const expected: ChangeSource[] = [
    { id: held[0]!, name: 'a', masterid: null },
    { id: held[1]!, name: 'b', masterid: null },
    { id: held[2]!, name: 'c', masterid: null },
    { id: kept, name: 'kept', masterid: 2 },
  ]
  // Without asking for it: the notification (or the periodic check) brings each process up to date.
  for (const master of others) {
    await until(async () => JSON.stringify(await master.request('state')) === JSON.stringify(expected), `${master.applicationName} to see the release`)
  }
  const log = await checkConverged([deactivating, ...others], url, schema)
  const releases = log.filter((record) => record.type === 'MasterReleased')
  assert.equal(
    releases.map((record) => record.type === 'MasterReleased' && [record.changesourceid, record.masterid, record.reason]),
    held.map((id) => [id, 1, 'master-deactivated']),
  )
  // One batch: seqs in a row and one timestamp.
  assert.equal(releases.map((record) => record.seq - releases[0]!.seq), [0, 1, 2])
  assert.is(new Set(releases.map((record) => record.timestamp)).size, 1)
})

test.run()

const schemas = suite('PostgreSQL schemas: versions and first opens')

schemas('a schema of a newer version (meta.schema_version = 2) is refused with OPEN_FAILED and left as it was', async () => {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  try {
    const first = await ChangeSources.open({ postgres: { connectionString: url, schema } })
    await first.findChangeSourceId('before')
    await first.close()
    await withClient(url, (client) => client.query(`UPDATE "${schema}".meta SET value = '2' WHERE key = 'schema_version'`))
    const contents = (): Promise<unknown> =>
      withClient(url, async (client) => [
        (await client.query(`SELECT key, value FROM "${schema}".meta ORDER BY key`)).rows,
        (await client.query(`SELECT seq, value FROM "${schema}".log ORDER BY seq`)).rows,
        (await client.query(`SELECT name, value FROM "${schema}".snapshot ORDER BY name`)).rows,
        (await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])).rows,
      ])
    const before = await contents()
    for (const open of [
      () => ChangeSources.open({ postgres: { connectionString: url, schema } }),
      () => AuditLog.open({ postgres: { connectionString: url, schema } }),
    ]) {
      const error = await open().then(
        () => undefined,
        (refusal: unknown) => refusal,
      )
      assert.ok(isChangeSourcesError(error, ErrorCode.openFailed), `refused with OPEN_FAILED: ${String(error)}`)
      assert.match((error as Error).message, /version 2/)
    }
    assert.equal(await contents(), before, 'nothing changed')
  } finally {
    await dropSchema(schema)
  }
})

schemas(`first opens of one schema at once all succeed (${runs(5, 50)} rounds of 4)`, async () => {
  const { url } = await testPostgres()
  for (let round = 1; round <= runs(5, 50); round++) {
    const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
    try {
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => ChangeSources.open({ postgres: { connectionString: url, schema } })))
      const components = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
      await Promise.all(components.map((component) => component.close()))
      assert.equal(
        opened.map((result) => (result.status === 'fulfilled' ? 'opened' : String(result.reason))),
        Array<string>(4).fill('opened'),
        `round ${round}`,
      )
    } finally {
      await dropSchema(schema)
    }
  }
})

schemas.run()

// Snapshots written by several processes at once: none corrupts another's, and a process that opens
// afterwards trusts the stored snapshot only where it agrees with the log.
const snapshots = suite<{ url: string; schema: string; masters: MasterProcess[] }>('snapshots from several master processes', {} as never)

snapshots.before.each(async (context) => {
  context.url = (await testPostgres()).url
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  context.masters = await MasterProcess.start(PROCESSES, { connectionString: context.url, schema: context.schema, snapshotEvery: 3 }, 'snap')
})

snapshots.after.each(async (context) => {
  await Promise.all(context.masters.map((master) => master.close()))
  await dropSchema(context.schema)
})

snapshots('every process snapshots every 3 records while all race; a later open from the stored snapshot equals the log', async ({ masters, url, schema }) => {
  for (let round = 1; round <= 12; round++) {
    const id = (await Promise.all(masters.map((master) => master.request<number>('find', { name: `source ${round}` }))))[0]!
    await Promise.all(masters.map((master, index) => master.outcome('claim', { cs: id, master: index + 1 })))
    if (round % 3 === 0) await Promise.all(masters.map((master, index) => master.outcome('deactivate', { master: index + 1 })))
  }
  await checkConverged(masters, url, schema)
  const expected = await masters[0]!.request<unknown>('state')
  // A later open: from the stored snapshot (if one is trusted), plus the records after it.
  const store = await PostgresLogStore.open({ connectionString: url, schema }, { sync: true, create: false })
  try {
    const restored = await restoreState(store)
    assert.ok(restored.snapshot.used, `a snapshot written while the processes raced is trusted: ${restored.snapshot.used ? '' : restored.snapshot.reason}`)
  } finally {
    await store.close()
  }
  const later = await ChangeSources.open({ postgres: { connectionString: url, schema } })
  try {
    assert.equal(JSON.parse(JSON.stringify(await later.getChangeSources())), JSON.parse(JSON.stringify(expected)), 'the same state as the processes that followed the whole log')
    const report = await later.verify()
    assert.ok(report.ok, 'the log is whole')
  } finally {
    await later.close()
  }
})

snapshots.run()
