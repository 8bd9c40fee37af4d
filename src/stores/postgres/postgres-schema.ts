/**
 * The tables of a log on PostgreSQL, created on first open in one transaction and versioned: a
 * schema newer than this code knows is refused. Identifiers come from a checked schema name and
 * are quoted; every value is a parameter.
 */
import type pg from 'pg'
import { LocationNotFoundError, OpenFailedError } from '../../errors.js'

/** The version of the tables this code writes and reads. */
export const POSTGRES_SCHEMA_VERSION = 1

export interface SchemaNames {
  readonly schema: string
  /** Quoted, qualified table names. */
  readonly log: string
  readonly snapshot: string
  readonly meta: string
  /** The notification channel, as pg_notify takes it and as LISTEN takes it (quoted). */
  readonly channel: string
  readonly channelIdentifier: string
  /** The advisory lock of appends: held shared by every append, exclusively by a turn. */
  readonly turnKey: string
}

export function schemaNames(schema: string): SchemaNames {
  const quoted = `"${schema}"`
  const channel = `changesources_${schema}`
  return {
    schema,
    log: `${quoted}.log`,
    snapshot: `${quoted}.snapshot`,
    meta: `${quoted}.meta`,
    channel,
    channelIdentifier: `"${channel}"`,
    turnKey: String(lockKey(`changesources-turn:${schema}`)),
  }
}

export async function createSchema(pool: pg.Pool, schema: string): Promise<SchemaNames> {
  const names = schemaNames(schema)
  // Tables already there: no DDL, so that a role granted only what the log needs can open it.
  const existing = await pool.query<{ meta: string | null }>('SELECT to_regclass($1) AS meta', [names.meta])
  if (existing.rows[0]?.meta !== null && existing.rows[0]?.meta !== undefined) return existingSchema(pool, schema)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // Two first opens at once: the second waits for the first's tables instead of racing it.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`changesources:${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${names.meta} (key text PRIMARY KEY, value text NOT NULL)`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${names.log} (
         seq bigint PRIMARY KEY CHECK (seq > 0),
         -- The record exactly as it is hashed: the store never interprets it.
         value text NOT NULL
       )`,
    )
    await client.query(`CREATE TABLE IF NOT EXISTS ${names.snapshot} (name text COLLATE "C" PRIMARY KEY, value text NOT NULL)`)
    await client.query(`INSERT INTO ${names.meta} (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING`, [String(POSTGRES_SCHEMA_VERSION)])
    const found = await client.query<{ value: string }>(`SELECT value FROM ${names.meta} WHERE key = 'schema_version'`)
    checkVersion(schema, found.rows[0]?.value)
    await client.query('COMMIT')
    return names
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** A 53-bit key for an advisory lock, from FNV-1a over the name (its text is ours: a checked schema name). */
function lockKey(name: string): number {
  let hash = 0xcbf29ce484222325n
  for (const byte of Buffer.from(name, 'utf8')) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn
  return Number(hash & 0x1fffffffffffffn)
}

/**
 * The tables of an existing log, for a reader (an audit): nothing is created, and a role that may
 * only read is enough. A schema without them is LocationNotFoundError.
 */
export async function existingSchema(pool: pg.Pool, schema: string): Promise<SchemaNames> {
  const names = schemaNames(schema)
  const found = await pool.query<{ meta: string | null }>('SELECT to_regclass($1) AS meta', [names.meta])
  if (found.rows[0]?.meta === null || found.rows[0]?.meta === undefined) {
    throw new LocationNotFoundError(`the PostgreSQL schema "${schema}"`)
  }
  const version = await pool.query<{ value: string }>(`SELECT value FROM ${names.meta} WHERE key = 'schema_version'`)
  checkVersion(schema, version.rows[0]?.value)
  return names
}

function checkVersion(schema: string, found: string | undefined): void {
  if (Number(found) !== POSTGRES_SCHEMA_VERSION) {
    throw new OpenFailedError(
      `the PostgreSQL schema "${schema}" has tables of version ${found}, which this version of changesources ` +
        `(tables of version ${POSTGRES_SCHEMA_VERSION}) cannot use; nothing was changed`,
    )
  }
}
