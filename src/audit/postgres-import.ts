/**
 * Import into a log on PostgreSQL, all or nothing: every record is written inside one transaction
 * on one connection, which holds the log table locked against other writers from its emptiness
 * check to its commit. A refused input, a lost connection or a killed process rolls it all back;
 * only the tables (created on first use, as by any open) stay, with an empty log.
 */
import pg from 'pg'
import { ChangeSourcesError, WriteFailedError, WriteOutcomeUnknownError } from '../errors.js'
import type { AppendOutcome, LogStore, SnapshotPart, StoredEntry, StoredSnapshotPart } from '../stores/log-store.js'
import { PostgresLogStore, type PostgresOptions } from '../stores/postgres/postgres-log-store.js'
import { describePostgresFailure, isConnectionFailure } from '../stores/postgres/postgres-errors.js'
import type { SchemaNames } from '../stores/postgres/postgres-schema.js'
import { importLines } from './log-transfer.js'

/** Imports `lines` (see importLines) into the empty log of `options.schema`; resolves with the number of records. */
export async function importIntoPostgres(options: PostgresOptions, lines: AsyncIterable<string>, onProgress?: (seq: number) => void): Promise<number> {
  try {
    return await importInOneTransaction(options, lines, onProgress)
  } catch (error) {
    // The database's own errors (a connection refused, a lock not granted) are ours to type.
    throw error instanceof ChangeSourcesError ? error : new WriteFailedError({ cause: error })
  }
}

async function importInOneTransaction(options: PostgresOptions, lines: AsyncIterable<string>, onProgress?: (seq: number) => void): Promise<number> {
  // Checks the options, creates the tables on first use and refuses tables of an unknown version, as every open does.
  const opened = await PostgresLogStore.open(options, { sync: true })
  const names = opened.names
  await opened.close()
  const { pool: given, schema: _schema, pollIntervalMs: _pollIntervalMs, ...connection } = options
  const pool = given ?? new pg.Pool({ max: 1, ...connection })
  if (given === undefined) pool.on('error', () => {})
  try {
    const client = await pool.connect()
    let lastLine: string | undefined
    let records = 0
    try {
      await client.query('BEGIN')
      await client.query("SET LOCAL synchronous_commit = 'on'")
      // Reads go on; appends by a running master wait for the commit, then find the log no longer empty.
      await client.query(`LOCK TABLE ${names.log} IN EXCLUSIVE MODE`)
      // A snapshot beside an empty log describes no log: only the import's own may stay (a log that is not empty refuses the import below).
      await client.query(`DELETE FROM ${names.snapshot}`)
      const transaction = new TransactionStore(client, names)
      records = await importLines(transaction, lines, onProgress)
      lastLine = transaction.lastValue
      // Delivered on commit: masters already following this schema learn of the records at once.
      await client.query(`SELECT pg_notify($1, $2)`, [names.channel, String(records)])
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      client.release()
      throw error
    }
    try {
      const committed = await client.query('COMMIT')
      // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
      if (committed.command !== 'COMMIT') throw new WriteFailedError({ cause: new Error('the transaction was rolled back') })
    } catch (error) {
      client.release(true)
      if (error instanceof WriteFailedError || !isConnectionFailure(error)) throw error instanceof WriteFailedError ? error : new WriteFailedError({ cause: error })
      if (!(await committedAfterAll(pool, names, records, lastLine, error))) throw new WriteFailedError({ cause: error })
      return records
    }
    client.release()
    return records
  } finally {
    if (given === undefined) await pool.end().catch(() => {})
  }
}

/** Whether a commit cut off by a lost connection happened: the log holds exactly the imported records. */
async function committedAfterAll(pool: pg.Pool, names: SchemaNames, records: number, lastLine: string | undefined, cause: unknown): Promise<boolean> {
  try {
    const result = await pool.query<{ head: string; last: string | null }>(
      `SELECT coalesce(max(seq), 0) AS head, (SELECT value FROM ${names.log} WHERE seq = $1) AS last FROM ${names.log}`,
      [records],
    )
    const row = result.rows[0]!
    if (Number(row.head) === 0) return false
    return Number(row.head) === records && row.last === (lastLine ?? null)
  } catch {
    throw new WriteOutcomeUnknownError({ cause })
  }
}

/** The store contract over one connection in an open transaction: what importLines writes through. */
class TransactionStore implements LogStore {
  readonly writers = 'single'
  readonly #client: pg.PoolClient
  readonly #names: SchemaNames
  lastValue: string | undefined

  constructor(client: pg.PoolClient, names: SchemaNames) {
    this.#client = client
    this.#names = names
  }

  async head(): Promise<number> {
    const result = await this.#client.query<{ head: string }>(`SELECT coalesce(max(seq), 0) AS head FROM ${this.#names.log}`)
    return Number(result.rows[0]!.head)
  }

  async *read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]> {
    const result = await this.#client.query<{ seq: string; value: string }>(
      `SELECT seq, value FROM ${this.#names.log} WHERE seq >= $1 AND ($2::bigint IS NULL OR seq <= $2) ORDER BY seq`,
      [range.from, range.to ?? null],
    )
    if (result.rows.length > 0) yield result.rows.map((row) => ({ seq: Number(row.seq), value: row.value }))
  }

  async append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome> {
    const head = await this.head()
    if (head !== expectedHead) return { appended: false, head }
    try {
      await this.#client.query(`INSERT INTO ${this.#names.log} (seq, value) SELECT * FROM unnest($1::bigint[], $2::text[])`, [
        entries.map((entry) => entry.seq),
        entries.map((entry) => entry.value),
      ])
    } catch (error) {
      throw new WriteFailedError({ cause: new Error(describePostgresFailure(error)) })
    }
    this.lastValue = entries[entries.length - 1]?.value ?? this.lastValue
    return { appended: true }
  }

  async writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    const written = parts.filter((part) => part.value !== null) as StoredSnapshotPart[]
    // A failed statement would abort the whole transaction; the savepoint keeps the snapshot optional.
    await this.#client.query('SAVEPOINT snapshot')
    try {
      await this.#client.query(`INSERT INTO ${this.#names.snapshot} (name, value) SELECT * FROM unnest($1::text[], $2::text[])`, [
        written.map((part) => part.name),
        written.map((part) => part.value),
      ])
      await this.#client.query('RELEASE SAVEPOINT snapshot')
    } catch (error) {
      await this.#client.query('ROLLBACK TO SAVEPOINT snapshot')
      throw error
    }
  }

  async *readSnapshot(): AsyncIterable<readonly StoredSnapshotPart[]> {
    // The import writes the snapshot last and never reads one.
  }

  async close(): Promise<void> {}
}
