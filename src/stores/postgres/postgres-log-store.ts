/**
 * The log on PostgreSQL: one table of records keyed by seq, one of snapshot parts, in a schema of
 * their own, shared by every master that opens it. Appends are optimistic (the primary key and the
 * head check decide who wins a race); others' appends are learnt from LISTEN/NOTIFY and from a
 * periodic check of the head, so that a lost notification or a dropped connection cannot leave a
 * process behind.
 */
import pg from 'pg'
import { InvalidArgumentError, LocationNotFoundError, OpenFailedError, WriteOutcomeUnknownError } from '../../errors.js'
import type { AppendOutcome, AppendTurn, LogStore, SnapshotPart, StoredEntry, StoredSnapshotPart } from '../log-store.js'
import { checkAppend } from '../store-checks.js'
import { describePostgresFailure, isConnectionFailure } from './postgres-errors.js'
import { createSchema, existingSchema, type SchemaNames } from './postgres-schema.js'

const READ_CHUNK = 1000
const APPENDED = Object.freeze({ appended: true } as const)
// How long the server process of a lost connection may take to go before an outcome is unknown.
const BACKEND_GONE_WITHIN_MS = 2000
/**
 * How many appends after a lost one use the full statement, which brings back the missed records
 * in the same round trip; a store that has not lost for this long uses the lean one.
 */
export const FULL_APPENDS_AFTER_LOSS = 64

/** What an append statement found: stored, or lost with the missed records it brought back (maybe none). */
type StatementOutcome = { readonly appended: true } | { readonly appended: false; readonly missed: readonly StoredEntry[] }
const NOTHING_MISSED: StatementOutcome = Object.freeze({ appended: false, missed: Object.freeze([]) })

export interface PostgresOptions {
  /** A `postgres://` URL. Give this, other `pg` pool options, or `pool`. */
  connectionString?: string
  /** An existing pool to use instead; not ended by close(). */
  pool?: pg.Pool
  /** The PostgreSQL schema (namespace) that holds this log: several logs can live in one database. Default `changesources`. */
  schema?: string
  /** How often the head is checked besides notifications, in milliseconds (default 1000). */
  pollIntervalMs?: number
  /**
   * How long a process that took its turn (after losing the race again and again) may hold back
   * the others' appends while it does nothing, in milliseconds (default 5000): the server ends a
   * stopped process's turn after this long.
   */
  turnTimeoutMs?: number
  /** Any other `pg` pool option (host, port, user, password, ssl, …). */
  [option: string]: unknown
}

export class PostgresLogStore implements LogStore {
  readonly writers = 'many'
  readonly #pool: pg.Pool
  readonly #ownsPool: boolean
  readonly #names: SchemaNames
  readonly #sync: boolean
  readonly #listeners = new Set<(head: number) => void>()
  readonly #pollIntervalMs: number
  readonly #turnTimeoutMs: number
  #poll: NodeJS.Timeout | undefined
  #reconnect: NodeJS.Timeout | undefined
  #lastAnnounced = 0
  /** An append whose commit was cut off: whether it is stored is found out before the next append. */
  #inDoubt: { entries: readonly StoredEntry[]; expectedHead: number; backend: number | null } | undefined
  #closed = false
  /**
   * The connection kept for appends and LISTEN: a store's own notifications come back on it with
   * the append's reply, so that no other server process is woken for them.
   */
  #session: Promise<pg.Client> | undefined
  /** The session's server process: notifications it sent are this store's own. */
  #sessionBackend: number | undefined
  /** The session LISTEN was sent on, while the store has listeners. */
  #listeningOn: pg.Client | undefined
  #lastAppend: Promise<unknown> = Promise.resolve()
  /** Appends left to make with the full statement: set by a loss, counted down by every append. */
  #fullAppendsLeft = 0

  private constructor(pool: pg.Pool, ownsPool: boolean, names: SchemaNames, sync: boolean, pollIntervalMs: number, turnTimeoutMs: number) {
    this.#turnTimeoutMs = turnTimeoutMs
    this.#pool = pool
    this.#ownsPool = ownsPool
    this.#names = names
    this.#sync = sync
    this.#pollIntervalMs = pollIntervalMs
  }

  /**
   * Connects, and creates the schema on first use (in one transaction). `create: false` (for a
   * reader) creates nothing: a schema without a log is LocationNotFoundError.
   */
  static async open(options: PostgresOptions, settings: { sync: boolean; create?: boolean }): Promise<PostgresLogStore> {
    const { pool: given, schema, pollIntervalMs, turnTimeoutMs, ...poolOptions } = checkPostgresOptions(options)
    const pool = given ?? new pg.Pool({ max: 4, ...poolOptions })
    // An idle client that loses its connection must not crash the process.
    if (given === undefined) pool.on('error', () => {})
    let names: SchemaNames
    try {
      names = settings.create === false ? await existingSchema(pool, schema) : await createSchema(pool, schema)
    } catch (error) {
      if (given === undefined) await pool.end().catch(() => {})
      if (error instanceof OpenFailedError || error instanceof LocationNotFoundError) throw error
      throw new OpenFailedError(`the PostgreSQL log could not be opened: ${describePostgresFailure(error)}`, { cause: error })
    }
    const store = new PostgresLogStore(pool, given === undefined, names, settings.sync, pollIntervalMs, turnTimeoutMs)
    store.#lastAnnounced = await store.head().catch(() => 0)
    return store
  }

  /** The schema's tables, for audits and tools: `{ schema, log, snapshot }`, quoted identifiers. */
  get names(): SchemaNames {
    return this.#names
  }

  async head(): Promise<number> {
    const result = await this.#pool.query<{ head: string }>({
      name: `changesources-head-${this.#names.schema}`,
      text: `SELECT coalesce(max(seq), 0) AS head FROM ${this.#names.log}`,
    })
    return Number(result.rows[0]!.head)
  }

  async *read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]> {
    // Bounded by the head when the read starts: later appends are another read's.
    const to = range.to ?? (await this.head())
    let from = Math.max(1, range.from)
    while (from <= to) {
      const result = await this.#pool.query<{ seq: string; value: string }>({
        name: `changesources-read-${this.#names.schema}`,
        text: `SELECT seq, value FROM ${this.#names.log} WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT ${READ_CHUNK}`,
        values: [from, to],
      })
      if (result.rows.length === 0) return
      const chunk = result.rows.map((row) => ({ seq: Number(row.seq), value: row.value }))
      yield chunk
      from = chunk[chunk.length - 1]!.seq + 1
    }
  }

  append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome> {
    checkAppend(entries, expectedHead)
    // One at a time on the kept connection: a connection runs one statement at a time anyway.
    const appended = this.#lastAppend.then(() => this.#append(this.#pool, entries, expectedHead, false))
    this.#lastAppend = appended.catch(() => {})
    return appended
  }

  /**
   * Takes the turn lock: every other writer's append waits for its shared hold until this one
   * commits. A process stopped while it holds the turn loses its session to the server after
   * `turnTimeoutMs`, and the others go on.
   */
  async takeTurn(): Promise<AppendTurn> {
    const client = await this.#pool.connect()
    // A turn the server ends (its timeout, a restart) errors its connection: that must not crash
    // the process, and the connection must not go back to the pool.
    let broken: unknown
    const onError = (error: unknown): void => {
      broken ??= error
    }
    client.on('error', onError)
    let head: number
    try {
      // One round trip: the lock's key is a number this store computed, the rest constants.
      const results = (await client.query(
        `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${this.#turnTimeoutMs}; ` +
          `SELECT pg_advisory_xact_lock(${this.#names.turnKey}); SELECT coalesce(max(seq), 0) AS head FROM ${this.#names.log}`,
      )) as unknown as pg.QueryResult<{ head: string }>[]
      head = Number(results[results.length - 1]!.rows[0]!.head)
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      client.off('error', onError)
      client.release(true)
      throw error
    }
    let open = true
    const finish = async (rollback: boolean): Promise<void> => {
      if (!open) return
      open = false
      if (rollback && broken === undefined) await client.query('ROLLBACK').catch(() => {})
      client.off('error', onError)
      client.release(broken === undefined ? undefined : true)
    }
    return {
      head: async () => head,
      append: async (entries, expectedHead) => {
        checkAppend(entries, expectedHead)
        let committed = false
        try {
          // Its commit ends the turn: the batch is acknowledged only once committed.
          const outcome = await this.#append(client, entries, expectedHead, true)
          committed = true
          return outcome
        } finally {
          // A turn never goes back to the pool with its transaction, and so its lock, still open.
          await finish(!committed)
        }
      },
      release: () => finish(true),
    }
  }

  async #append(on: pg.Pool | pg.PoolClient, entries: readonly StoredEntry[], expectedHead: number, inTurn: boolean): Promise<AppendOutcome> {
    if (this.#inDoubt !== undefined) {
      // This batch is not sent while an earlier one's outcome is unknown: it fails as not written.
      await this.#settleDoubt().catch((error: unknown) => {
        throw new Error(`an earlier batch's outcome is not known yet: ${describePostgresFailure((error as { cause?: unknown }).cause ?? error)}`, { cause: error })
      })
    }
    if (entries.length === 0) return (await this.head()) === expectedHead ? APPENDED : { appended: false, head: await this.head() }
    // The session (outside a turn), whose server process is known: if the connection is lost, the
    // outcome is asked only once that process has gone.
    const client = inTurn ? (on as pg.PoolClient) : await this.#sessionClient()
    const backend = (client as unknown as { processID: number | null }).processID
    let connectionLost = false
    const full = this.#fullAppendsLeft > 0
    if (full) this.#fullAppendsLeft -= 1
    let outcome: StatementOutcome
    try {
      outcome = full ? await this.#appendFull(client, entries, expectedHead) : await this.#appendLean(client, entries, expectedHead)
      if (inTurn) await client.query('COMMIT')
    } catch (error) {
      if (inTurn) await client.query('ROLLBACK').catch(() => {})
      if ((error as { code?: unknown }).code === '23505') {
        // Another writer committed at these seqs while this statement ran: what it missed, read at
        // once on the same connection, spares the writer a check of the head and a read.
        this.#fullAppendsLeft = FULL_APPENDS_AFTER_LOSS
        const missed = await this.#readAfter(client, expectedHead)
        if (missed.length === 0) return { appended: false, head: await this.head() }
        return { appended: false, head: missed[missed.length - 1]!.seq, missed }
      }
      if (isConnectionFailure(error)) {
        connectionLost = true
        // The commit may or may not have happened: find out now if the database answers, else later.
        this.#inDoubt = { entries, expectedHead, backend }
        const settled = await this.#settleDoubt().then(
          (stored) => stored,
          () => undefined,
        )
        if (settled === true) return APPENDED
        if (settled === false) throw error
        throw new WriteOutcomeUnknownError({ cause: error })
      }
      throw error
    } finally {
      if (!inTurn && connectionLost) this.#dropSession(client as pg.Client)
    }
    if (outcome.appended) return APPENDED
    this.#fullAppendsLeft = FULL_APPENDS_AFTER_LOSS
    const { missed } = outcome
    if (missed.length === 0) return { appended: false, head: await this.head() }
    return { appended: false, head: missed[missed.length - 1]!.seq, missed }
  }

  /**
   * One statement (and, outside a turn, one implicit transaction): the turn's shared hold, the
   * commit's durability, the head check and the notification are one condition, checked before any
   * row is written; it lets every row through or none, and a notification is sent only on commit,
   * so only when rows were written. A lost append brings nothing back.
   */
  async #appendLean(client: pg.ClientBase, entries: readonly StoredEntry[], expectedHead: number): Promise<StatementOutcome> {
    // Named statements: planned once per connection (planning each time doubled their cost). One
    // record, the common case of a caller awaiting each call, goes as plain parameters: an array's
    // quoting and parsing cost a measurable share of such a call.
    const single = entries.length === 1
    const result = await client.query({
      name: `changesources-insert-${single ? 'one' : 'many'}-${this.#names.schema}`,
      text: `INSERT INTO ${this.#names.log} (seq, value)
             ${single ? 'SELECT $1::bigint, $2::text' : 'SELECT seq, value FROM unnest($1::bigint[], $2::text[]) AS entry(seq, value)'}
             WHERE (SELECT pg_advisory_xact_lock_shared($6)::text = ''
                       AND set_config('synchronous_commit', $4, true) IS NOT NULL
                       AND coalesce(max(seq), 0) = $3
                       AND pg_notify($5, $7)::text = ''
                    FROM ${this.#names.log})`,
      values: [
        single ? entries[0]!.seq : entries.map((entry) => entry.seq),
        single ? entries[0]!.value : entries.map((entry) => entry.value),
        expectedHead,
        this.#sync ? 'on' : 'off',
        this.#names.channel,
        this.#names.turnKey,
        String(entries[entries.length - 1]!.seq),
      ],
    })
    return result.rowCount === entries.length ? APPENDED : NOTHING_MISSED
  }

  /**
   * The lean statement's condition, with the notification sent only when rows were written, and,
   * when the head has moved, what this writer missed, read in the same trip.
   */
  async #appendFull(client: pg.ClientBase, entries: readonly StoredEntry[], expectedHead: number): Promise<StatementOutcome> {
    // Few plan nodes: each costs the server time at every call (docs/benchmarks.md, section 8).
    const result = await client.query<{ inserted: number | null; seq: string | null; value: string | null }>({
      name: `changesources-append-${this.#names.schema}`,
      text: `WITH written AS (
              INSERT INTO ${this.#names.log} (seq, value)
              SELECT seq, value FROM unnest($1::bigint[], $2::text[]) AS entry(seq, value)
              WHERE (SELECT pg_advisory_xact_lock_shared($6)::text = ''
                        AND set_config('synchronous_commit', $4, true) IS NOT NULL
                        AND coalesce(max(seq), 0) = $3
                     FROM ${this.#names.log})
              RETURNING seq)
       (SELECT count(*)::int AS inserted, CASE WHEN count(*) > 0 THEN length(pg_notify($5, max(seq)::text)::text) END AS notified,
               NULL::bigint AS seq, NULL::text AS value
        FROM written)
       UNION ALL
       (SELECT NULL, NULL, seq, value FROM ${this.#names.log}
        WHERE seq > $3 AND NOT EXISTS (SELECT 1 FROM written) ORDER BY seq LIMIT ${READ_CHUNK})`,
      values: [entries.map((entry) => entry.seq), entries.map((entry) => entry.value), expectedHead, this.#sync ? 'on' : 'off', this.#names.channel, this.#names.turnKey],
    })
    const inserted = result.rows.find((row) => row.inserted !== null)?.inserted ?? 0
    if (inserted === entries.length) return APPENDED
    return { appended: false, missed: result.rows.filter((row) => row.seq !== null).map((row) => ({ seq: Number(row.seq), value: row.value! })) }
  }

  async #readAfter(client: pg.ClientBase, after: number): Promise<StoredEntry[]> {
    const result = await client.query<{ seq: string; value: string }>({
      name: `changesources-after-${this.#names.schema}`,
      text: `SELECT seq, value FROM ${this.#names.log} WHERE seq > $1 ORDER BY seq LIMIT ${READ_CHUNK}`,
      values: [after],
    })
    return result.rows.map((row) => ({ seq: Number(row.seq), value: row.value }))
  }

  /**
   * Whether the append in doubt is stored (its entries, as sent, at their seqs). Until the
   * database answers, every append is refused with WriteOutcomeUnknownError.
   */
  async #settleDoubt(): Promise<boolean> {
    const { entries, expectedHead, backend } = this.#inDoubt!
    let result
    try {
      // The server process of the lost connection may still be committing: ask once it has gone.
      if (backend !== null) {
        for (let waited = 0; ; waited += 20) {
          const alive = await this.#pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backend])
          if (alive.rowCount === 0) break
          if (waited >= BACKEND_GONE_WITHIN_MS) throw new Error(`the lost connection's server process ${backend} is still running`)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
      result = await this.#pool.query<{ seq: string; value: string }>(
        `SELECT seq, value FROM ${this.#names.log} WHERE seq > $1 AND seq <= $2 ORDER BY seq`,
        [expectedHead, expectedHead + entries.length],
      )
    } catch (error) {
      throw new WriteOutcomeUnknownError({ cause: error })
    }
    this.#inDoubt = undefined
    return result.rows.length === entries.length && result.rows.every((row, index) => row.value === entries[index]!.value)
  }

  onAppended(listener: (head: number) => void): () => void {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#startFollowing()
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) this.#stopFollowing()
    }
  }

  async writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    const deleted = parts.filter((part) => part.value === null).map((part) => part.name)
    const written = parts.filter((part) => part.value !== null) as StoredSnapshotPart[]
    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN')
      if (deleted.length > 0) await client.query(`DELETE FROM ${this.#names.snapshot} WHERE name = ANY($1::text[])`, [deleted])
      if (written.length > 0) {
        await client.query(
          `INSERT INTO ${this.#names.snapshot} (name, value) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
          [written.map((part) => part.name), written.map((part) => part.value)],
        )
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  async *readSnapshot(prefix: string): AsyncIterable<readonly StoredSnapshotPart[]> {
    let after: string | null = null
    for (;;) {
      const result: pg.QueryResult<StoredSnapshotPart> = await this.#pool.query<StoredSnapshotPart>(
        `SELECT name, value FROM ${this.#names.snapshot}
         WHERE starts_with(name, $1) AND ($2::text IS NULL OR name > $2) ORDER BY name LIMIT ${READ_CHUNK}`,
        [prefix, after],
      )
      if (result.rows.length === 0) return
      yield result.rows
      after = result.rows[result.rows.length - 1]!.name
    }
  }

  /**
   * The session: appends of one process come one at a time on it (checking a connection out of the
   * pool for each cost a measurable share of a call), and it listens while the store has listeners.
   * Outside the pool, so that a small pool cannot be left without a connection for reads.
   */
  #sessionClient(): Promise<pg.Client> {
    // One connection however many callers ask at once.
    if (this.#session === undefined) {
      const session = this.#connectSession()
      this.#session = session
      session.catch(() => {
        if (this.#session === session) this.#session = undefined
      })
    }
    return this.#session
  }

  async #connectSession(): Promise<pg.Client> {
    const client = new pg.Client(this.#clientOptions())
    // A connection that fails while kept must not crash the process; it is dropped for a new one.
    client.on('error', () => this.#dropSession(client))
    client.on('end', () => this.#dropSession(client))
    client.on('notification', (message) => {
      // This store's own appends are known from their outcome: telling them would only queue
      // catch-ups with nothing to read, between the commands of a busy writer.
      if (message.processId === this.#sessionBackend) return
      const head = Number(message.payload)
      if (Number.isSafeInteger(head)) this.#announce(head)
    })
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    }
    this.#sessionBackend = (client as unknown as { processID: number | null }).processID ?? undefined
    if (this.#listeners.size > 0) this.#listenOn(client)
    return client
  }

  #dropSession(client: pg.Client): void {
    const session = this.#session
    if (session === undefined) return
    void session.then(
      (current) => {
        // Once only, however many times its failure is reported.
        if (current !== client || this.#session !== session) return
        this.#session = undefined
        this.#sessionBackend = undefined
        this.#listeningOn = undefined
        void client.end().catch(() => {})
        this.#scheduleListen()
      },
      () => {},
    )
  }

  /** LISTEN on the session, then a check of the head: what others appended before it listened. */
  #listenOn(client: pg.Client): void {
    if (this.#listeningOn === client) return
    this.#listeningOn = client
    client.query(`LISTEN ${this.#names.channelIdentifier}`).then(
      () => {
        this.head().then(
          (head) => this.#announce(head, true),
          () => {},
        )
      },
      () => {
        // A lost connection is dropped by its own events, which schedule the next try.
        if (this.#listeningOn === client) this.#listeningOn = undefined
        this.#scheduleListen()
      },
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopFollowing()
    const session = this.#session
    this.#session = undefined
    this.#sessionBackend = undefined
    this.#listeningOn = undefined
    await session?.then(
      (client) => client.end(),
      () => {},
    ).catch(() => {})
    if (this.#ownsPool) await this.#pool.end()
  }

  /**
   * Tells the listeners of a head. The periodic check (`repeat`) tells a known head again: a
   * listener may have failed to act on it (a catch-up whose read failed) and must not stay behind.
   */
  #announce(head: number, repeat = false): void {
    if (head < this.#lastAnnounced || (head === this.#lastAnnounced && !repeat)) return
    this.#lastAnnounced = head
    for (const listener of this.#listeners) listener(head)
  }

  #startFollowing(): void {
    this.#follow()
    this.#poll = setInterval(() => {
      this.head().then(
        (head) => this.#announce(head, true),
        () => {},
      )
    }, this.#pollIntervalMs)
    this.#poll.unref()
  }

  #stopFollowing(): void {
    clearInterval(this.#poll)
    clearTimeout(this.#reconnect)
    this.#poll = undefined
    const listening = this.#listeningOn
    this.#listeningOn = undefined
    // The session stays for appends; a closing store ends it anyway.
    if (!this.#closed) void listening?.query(`UNLISTEN ${this.#names.channelIdentifier}`).catch(() => {})
  }

  /** Listens on the session, connected now if it is not; each (re)connection checks the head. */
  #follow(): void {
    if (this.#closed || this.#listeners.size === 0) return
    this.#sessionClient().then(
      (client) => {
        if (!this.#closed && this.#listeners.size > 0) this.#listenOn(client)
      },
      () => this.#scheduleListen(),
    )
  }

  #scheduleListen(): void {
    if (this.#closed || this.#listeners.size === 0) return
    clearTimeout(this.#reconnect)
    this.#reconnect = setTimeout(() => this.#follow(), this.#pollIntervalMs)
    this.#reconnect.unref()
  }

  #clientOptions(): pg.ClientConfig {
    return (this.#pool as unknown as { options: pg.ClientConfig }).options
  }
}

function checkPostgresOptions(options: unknown): PostgresOptions & { schema: string; pollIntervalMs: number; turnTimeoutMs: number } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options.postgres', 'an object of pg connection options', options)
  const { schema = 'changesources', pollIntervalMs = 1000, turnTimeoutMs = 5000, pool, connectionString } = options as PostgresOptions
  if (typeof turnTimeoutMs !== 'number' || !Number.isSafeInteger(turnTimeoutMs) || turnTimeoutMs < 100) {
    throw new InvalidArgumentError('options.postgres.turnTimeoutMs', 'a whole number of milliseconds, at least 100', turnTimeoutMs)
  }
  // At most 40 characters: the notification channel and the named statements add a prefix to it,
  // and PostgreSQL cuts every name at 63 bytes.
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,39}$/.test(schema)) {
    throw new InvalidArgumentError('options.postgres.schema', 'a lower-case PostgreSQL identifier (letters, digits, _) of at most 40 characters', schema)
  }
  if (typeof pollIntervalMs !== 'number' || !Number.isSafeInteger(pollIntervalMs) || pollIntervalMs < 10) {
    throw new InvalidArgumentError('options.postgres.pollIntervalMs', 'a whole number of milliseconds, at least 10', pollIntervalMs)
  }
  if (pool !== undefined && !(pool instanceof pg.Pool)) throw new InvalidArgumentError('options.postgres.pool', 'a pg.Pool', pool)
  if (connectionString !== undefined && (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString))) {
    throw new InvalidArgumentError('options.postgres.connectionString', 'a postgres:// URL', 'a string that is not one')
  }
  return { ...(options as PostgresOptions), schema, pollIntervalMs, turnTimeoutMs }
}
