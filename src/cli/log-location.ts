/**
 * Where the command finds a log: a LevelDB folder, or a schema on PostgreSQL named by a
 * postgres:// URL and --schema. Only `display` is ever printed: the URL with its password hidden.
 */
import pg from 'pg'
import { LocationNotFoundError, OpenFailedError } from '../errors.js'
import { describePostgresFailure, redactUrls } from '../stores/postgres/postgres-errors.js'

export const DEFAULT_SCHEMA = 'changesources'

export type LogLocation =
  | { readonly kind: 'folder'; readonly path: string; readonly display: string }
  | { readonly kind: 'postgres'; readonly postgres: { readonly connectionString: string; readonly schema: string }; readonly display: string }

export function isPostgresUrl(argument: string): boolean {
  return /^postgres(ql)?:\/\//i.test(argument)
}

/** The location an argument names; `schema` only for a URL (the caller refuses it otherwise). */
export function logLocation(argument: string, schema: string | undefined): LogLocation {
  if (!isPostgresUrl(argument)) return { kind: 'folder', path: argument, display: argument }
  const chosen = schema ?? DEFAULT_SCHEMA
  // pg takes only a lower-case scheme.
  const connectionString = argument.replace(/^[a-z]+:/i, (scheme) => scheme.toLowerCase())
  return { kind: 'postgres', postgres: { connectionString, schema: chosen }, display: `${redactUrls(connectionString)} (schema ${chosen})` }
}

/**
 * Refuses a schema that holds no log, before an audit opens it: opening creates the tables on
 * first use, and an audit (a typo in --schema) must not leave an empty log behind.
 */
export async function checkPostgresLogExists(location: Extract<LogLocation, { kind: 'postgres' }>): Promise<void> {
  const client = new pg.Client({ connectionString: location.postgres.connectionString })
  client.on('error', () => {})
  try {
    await client.connect()
    const found = await client.query<{ meta: string | null }>('SELECT to_regclass($1) AS meta', [`"${location.postgres.schema}".meta`])
    if (found.rows[0]?.meta === null) throw new LocationNotFoundError(location.display)
  } catch (error) {
    if (error instanceof LocationNotFoundError) throw error
    throw new OpenFailedError(`${location.display} could not be read: ${describePostgresFailure(error)}`, { cause: error })
  } finally {
    await client.end().catch(() => {})
  }
}
