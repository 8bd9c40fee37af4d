// Audits of a log on PostgreSQL: AuditLog.open({ postgres }) answers read, at, history and verify as
// the component does, and verify names the first record changed behind the component's back.
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, type ChangeRecord } from '../src/index.js'
import { dropSchema, testPostgres, withClient, withRole } from './helpers/postgres.js'

const test = suite<{ url: string; schema: string }>('audits on PostgreSQL', { url: '', schema: '' })
test.before.each(async (context) => {
  context.url = (await testPostgres()).url
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
})
test.after.each(async ({ schema }) => {
  await dropSchema(schema)
})

async function collect(records: AsyncIterable<ChangeRecord>): Promise<ChangeRecord[]> {
  const all: ChangeRecord[] = []
  for await (const record of records) all.push(record)
  return all
}

test('read, at, history and verify answer as the component does', async ({ url, schema }) => {
  const postgres = { connectionString: url, schema }
  const cs = await ChangeSources.open({ postgres, snapshotEvery: 4 })
  const a = await cs.findChangeSourceId('a')
  const b = await cs.findChangeSourceId('b')
  await cs.setChangeSourceMaster(a, 1)
  await cs.setChangeSourceMaster(b, 2)
  await cs.setChangeSourceMaster(a, null)
  await cs.masterDeactivated(2)
  const audit = await AuditLog.open({ postgres })
  try {
    assert.is(audit.head, cs.head)
    assert.equal(await collect(audit.read()), await collect(cs.read()))
    for (let seq = 0; seq <= cs.head; seq++) {
      const [ours, theirs] = [await audit.at({ seq }), await cs.at({ seq })]
      assert.equal(await ours.getChangeSources(), await theirs.getChangeSources(), `the state after seq ${seq}`)
    }
    assert.equal(await audit.history({ changesourceid: a }), await cs.history({ changesourceid: a }))
    assert.equal(await audit.history({ masterid: 2 }), await cs.history({ masterid: 2 }))
    const report = await audit.verify()
    assert.equal({ ok: report.ok, length: report.ok ? report.length : undefined }, { ok: true, length: 6 })
  } finally {
    await audit.close()
    await cs.close()
  }
})

test('a record changed in the table is found by verify, which names its seq; the component refuses to open', async ({ url, schema }) => {
  const postgres = { connectionString: url, schema }
  const cs = await ChangeSources.open({ postgres })
  await cs.findChangeSourceId('a')
  await cs.findChangeSourceId('b')
  await cs.setChangeSourceMaster(1, 7)
  await cs.close()
  await withClient(url, (client) => client.query(`UPDATE "${schema}".log SET value = replace(value, '"masterid":7', '"masterid":8') WHERE seq = 3`))
  const audit = await AuditLog.open({ postgres })
  try {
    const report = await audit.verify()
    assert.is(report.ok, false)
    if (!report.ok) assert.is(report.seq, 3)
  } finally {
    await audit.close()
  }
  const refused = await ChangeSources.open({ postgres }).then(
    (opened) => opened.close().then(() => undefined),
    (error: unknown) => error,
  )
  assert.is((refused as { code?: string })?.code, 'CHANGESOURCES_CORRUPT_LOG')
})

test.run()

const readers = suite<{ url: string; schema: string }>('audits on PostgreSQL create nothing', { url: '', schema: '' })
readers.before.each(async (context) => {
  context.url = (await testPostgres()).url
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
})
readers.after.each(async ({ schema }) => {
  await dropSchema(schema)
})

readers('an audit of a schema without a log is CHANGESOURCES_NOT_FOUND, and the schema is not created', async ({ url, schema }) => {
  const error = await AuditLog.open({ postgres: { connectionString: url, schema } }).then(
    (audit) => audit.close().then(() => undefined),
    (reason: unknown) => reason,
  )
  assert.is((error as { code?: string })?.code, 'CHANGESOURCES_NOT_FOUND')
  const found = await withClient(url, (client) => client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]))
  assert.is(found.rowCount, 0, 'no schema was created')
})

readers('a role that may only read can audit a log', async ({ url, schema }) => {
  const cs = await ChangeSources.open({ postgres: { connectionString: url, schema } })
  await cs.findChangeSourceId('a')
  await cs.close()
  await withRole(`${schema}_reader`, [`GRANT USAGE ON SCHEMA "${schema}" TO $ROLE`, `GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO $ROLE`], async (readerUrl) => {
    const audit = await AuditLog.open({ postgres: { connectionString: readerUrl, schema } })
    try {
      const report = await audit.verify()
      assert.equal({ ok: report.ok, length: report.ok ? report.length : undefined }, { ok: true, length: 1 })
    } finally {
      await audit.close()
    }
  })
})

readers.run()
