/**
 * The PostgreSQL server of this test run, for tests. In order:
 * - CHANGESOURCES_TEST_POSTGRES_SERVER (set by scripts/run-tests.mjs): the server `npm test` started;
 *   tests may stop and start it.
 * - CHANGESOURCES_TEST_POSTGRES_URL: an existing server (CHANGESOURCES_TEST_POSTGRES_SUPERUSER_URL for
 *   the superuser, default the same); nothing is started, and `server` is null.
 * - neither (a test file run on its own with uvu): a server started for this process, removed at exit.
 * CHANGESOURCES_TEST_POSTGRES_UNAVAILABLE (set by the runner when its server did not start) fails
 * every test that asks, with the runner's reason.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { suite, type Test } from 'uvu'
import { PostgresLogStore, type PostgresOptions } from '../../src/stores/postgres/postgres-log-store.js'
import { PostgresServer, startPostgresServer, type PostgresServerInfo } from './postgres-server.js'

export interface TestPostgres {
  /** A role that may create schemas in the test database. */
  readonly url: string
  /** A superuser, e.g. for pg_terminate_backend. */
  readonly superuserUrl: string
  /** The server, to stop and start mid-test; null when the tests use a server they did not start. */
  readonly server: PostgresServer | null
}

let shared: Promise<TestPostgres> | undefined

export function testPostgres(): Promise<TestPostgres> {
  shared ??= locate()
  return shared
}

async function locate(): Promise<TestPostgres> {
  const unavailable = process.env.CHANGESOURCES_TEST_POSTGRES_UNAVAILABLE
  if (unavailable) throw new Error(`the test run's PostgreSQL server did not start: ${unavailable}`)
  const started = process.env.CHANGESOURCES_TEST_POSTGRES_SERVER
  if (started) {
    const info = JSON.parse(started) as PostgresServerInfo
    return { url: info.url, superuserUrl: info.superuserUrl, server: new PostgresServer(info) }
  }
  const url = process.env.CHANGESOURCES_TEST_POSTGRES_URL
  if (url) return { url, superuserUrl: process.env.CHANGESOURCES_TEST_POSTGRES_SUPERUSER_URL || url, server: null }
  const server = await startPostgresServer()
  process.once('exit', () => server.destroySync())
  return { url: server.info.url, superuserUrl: server.info.superuserUrl, server }
}

export interface FreshSchema {
  readonly schema: string
  /** The test connection string with this schema as search_path. */
  readonly url: string
  drop(): Promise<void>
}

/** A new empty schema in the test database: far cheaper than a database per suite. */
export async function freshSchema(): Promise<FreshSchema> {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  await withClient(url, (client) => client.query(`CREATE SCHEMA ${schema}`))
  const schemaUrl = new URL(url)
  schemaUrl.searchParams.set('options', `-c search_path=${schema}`)
  return {
    schema,
    url: schemaUrl.toString(),
    drop: async () => {
      await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))
    },
  }
}

export async function withClient<T>(connectionString: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

/** Drops a schema that a test made (by name, after checking it is one of ours). */
export async function dropSchema(schema: string): Promise<void> {
  if (!/^t_\d+_[0-9a-f]{8}$/.test(schema)) throw new Error(`not a test schema: ${schema}`)
  const { url } = await testPostgres()
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
}

/**
 * A login role of the test database with only `grants` (SQL run as the superuser, `$ROLE` standing
 * for the role's quoted name), for the time of `use`, which gets the role's connection string.
 */
export async function withRole<T>(name: string, grants: readonly string[], use: (url: string) => Promise<T>): Promise<T> {
  const { url, superuserUrl } = await testPostgres()
  const password = randomBytes(8).toString('hex')
  const role = `"${name}"`
  await withClient(superuserUrl, async (client) => {
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
    await client.query(`GRANT CONNECT ON DATABASE "${new URL(url).pathname.slice(1)}" TO ${role}`)
    for (const grant of grants) await client.query(grant.replaceAll('$ROLE', role))
  })
  try {
    const roleUrl = new URL(url)
    roleUrl.username = name
    roleUrl.password = password
    return await use(roleUrl.toString())
  } finally {
    await withClient(superuserUrl, async (client) => {
      await client.query(`DROP OWNED BY ${role}`)
      await client.query(`DROP ROLE ${role}`)
    })
  }
}

export interface StoresContext {
  stores: PostgresLogStore[]
  schema: string
  /** A PostgreSQL store on the test's fresh schema (durable), closed after the test. */
  open(options?: Partial<PostgresOptions>): Promise<PostgresLogStore>
}

/** A suite whose tests open PostgreSQL stores on a fresh schema of their own, dropped afterwards. */
export function postgresStoresSuite(title: string): Test<StoresContext> {
  const test = suite<StoresContext>(title, {} as StoresContext)
  test.before.each(async (context) => {
    const { url } = await testPostgres()
    context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
    context.stores = []
    context.open = async (options = {}) => {
      const store = await PostgresLogStore.open({ connectionString: url, schema: context.schema, ...options }, { sync: true })
      context.stores.push(store)
      return store
    }
  })
  test.after.each(async ({ stores, schema }) => {
    for (const store of stores) await store.close()
    await dropSchema(schema)
  })
  return test
}
