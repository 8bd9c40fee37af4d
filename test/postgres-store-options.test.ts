// The PostgreSQL store's options and messages: a schema name that every derived name can carry, no
// secret of a URL in any message, and a master role granted only what the log needs.
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode } from '../src/index.js'
import { redactUrls } from '../src/stores/postgres/postgres-errors.js'
import { rejectsWith } from './helpers/assertions.js'
import { dropSchema, testPostgres, withClient, withRole } from './helpers/postgres.js'

const test = suite('the PostgreSQL store: options and messages')

test('a schema name longer than 40 characters is refused before anything is created', async () => {
  const { url } = await testPostgres()
  const error = await rejectsWith(() => ChangeSources.open({ postgres: { connectionString: url, schema: 'a'.repeat(41) } }), ErrorCode.invalidArgument)
  assert.match(error.message, /40 characters/)
})

test('a 40-character schema works end to end: appends, notifications, named statements', async () => {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`.padEnd(40, 'x')
  const [first, second] = [
    await ChangeSources.open({ postgres: { connectionString: url, schema, pollIntervalMs: 50 } }),
    await ChangeSources.open({ postgres: { connectionString: url, schema, pollIntervalMs: 50 } }),
  ]
  try {
    assert.is(await first.findChangeSourceId('a'), 1)
    await second.catchUp()
    assert.is((await second.getChangeSource(1))?.name, 'a')
  } finally {
    await first.close()
    await second.close()
    await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
  }
})

test('no secret of a postgres:// URL survives redaction, whatever the URL looks like', () => {
  const cases: Array<[string, string]> = [
    ['postgres://u:p@ss@h:5432/db', 'p@ss'],
    ['postgres://u@127.0.0.1:1/db?password=s3cret', 's3cret'],
    ['POSTGRES://u:pw123@h/db', 'pw123'],
    ['postgresql://u:x@h/db?sslpassword=k3y&sslmode=require', 'k3y'],
    ['failed: postgres://a:b0b@h/d, retrying', 'b0b'],
  ]
  for (const [text, secret] of cases) {
    const shown = redactUrls(text)
    assert.not.ok(shown.includes(secret), `${secret} is hidden in ${shown}`)
    assert.ok(shown.includes('***'), `a mark shows where it was: ${shown}`)
  }
  assert.is(redactUrls('postgresql://h/db'), 'postgresql://h/db', 'a URL without a secret is shown as it is')
})

test('a master role granted only what the log needs (tables made once by their owner) opens and writes the log', async () => {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  const owner = await ChangeSources.open({ postgres: { connectionString: url, schema } })
  await owner.findChangeSourceId('made by the owner')
  await owner.close()
  try {
    await withRole(
      `${schema}_master`,
      [
        `GRANT USAGE ON SCHEMA "${schema}" TO $ROLE`,
        `GRANT SELECT, INSERT ON "${schema}".log TO $ROLE`,
        `GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}".snapshot TO $ROLE`,
        `GRANT SELECT ON "${schema}".meta TO $ROLE`,
      ],
      async (masterUrl) => {
        const cs = await ChangeSources.open({ postgres: { connectionString: masterUrl, schema }, snapshotEvery: 2 })
        try {
          const id = await cs.findChangeSourceId('poller')
          await cs.setChangeSourceMaster(id, 1)
          await cs.setChangeSourceMaster(id, null)
          assert.is(cs.head, 4)
        } finally {
          await cs.close()
        }
      },
    )
  } finally {
    await dropSchema(schema)
  }
})

test.run()
