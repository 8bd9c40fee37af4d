/**
 * The audit reader: a log opened for reading only, without the component. It opens a location that
 * `ChangeSources.open` refuses (a damaged log: verify() reports where), never creates a database,
 * and never changes the folder: LevelDB opens a private copy of it (audit-copy.ts), which holds the
 * folder's own LOCK unless `copy` is asked for (a location a running master holds locked).
 * ChangeSources answers the same questions through the same functions (audit-queries.ts).
 */
import { readdir } from 'node:fs/promises'
import { Level } from 'level'
import { ChangeSourcesError, ClosedError, InvalidArgumentError, LocationLockedError, LocationNotFoundError, OpenFailedError, messageOf } from '../errors.js'
import type { ChangeRecord } from '../domain/events.js'
import { LevelLogStore, type AnyLevel } from '../stores/level/level-log-store.js'
import type { LogStore } from '../stores/log-store.js'
import { checkStore } from '../stores/store-checks.js'
import { PostgresLogStore, type PostgresOptions } from '../stores/postgres/postgres-log-store.js'
import { reserveLocation } from '../stores/level/open-locations.js'
import { AuditQueries, type ReadRange } from './audit-queries.js'
import type { History, HistoryQuery } from './history.js'
import type { PointInTime, PointInTimeTarget } from './point-in-time.js'
import type { VerifyReport } from './verify.js'
import { exportLines, importLines } from './log-transfer.js'
import { importIntoPostgres } from './postgres-import.js'
import { readOwn } from '../domain/validate.js'
import { copyForAudit, folderFingerprint } from '../stores/level/audit-copy.js'
import { buildNewFolder } from '../stores/level/new-folder.js'
import { describeOpenFailure, isAbstractLevel, openError } from '../stores/level/open-failure.js'

export interface AuditOpenOptions {
  /** The folder of a LevelDB database written by ChangeSources. Give one of `location`, `db` and `store`. */
  location?: string
  /** An abstract-level database instead; opened if needed, not closed by close(). */
  db?: AnyLevel
  /** Any log store (see docs/stores.md) instead: the shared memory store, a third party's; not closed by close(). */
  store?: LogStore
  /** A log on PostgreSQL (the same options as ChangeSources.open's `postgres`); the connections are closed by close(). */
  postgres?: PostgresOptions
  /**
   * Audit a copy without taking the folder's lock: for a location that a running master holds
   * locked. A copy taken while the log is written is recovered by LevelDB like a crash; verify()
   * then says whether its tail is whole. Either way the audit reads a temporary copy, removed by
   * close(), and the folder itself is not changed.
   */
  copy?: boolean
  /** Called as long work (restore, verify, export, import) advances: records done, records in all. */
  onProgress?: (done: number, total: number) => void
}

export class AuditLog {
  readonly #queries: AuditQueries
  readonly #store: LogStore
  readonly #head: number
  #release: () => Promise<void>
  #closed = false

  private constructor(store: LogStore, head: number, onProgress: AuditOpenOptions['onProgress'], release: () => Promise<void>) {
    this.#store = store
    this.#head = head
    this.#queries = new AuditQueries(store, () => this.#head, undefined, onProgress)
    this.#release = release
  }

  /** An audit of `store` as it is now: its head is read once, so that every answer is of one log. */
  static async #over(store: LogStore, onProgress: AuditOpenOptions['onProgress'], release: () => Promise<void>, ownsStore = true): Promise<AuditLog> {
    let head: number
    try {
      head = await store.head()
    } catch (error) {
      throw new OpenFailedError(`the store's head could not be read: ${messageOf(error)}`, { cause: error })
    }
    return new AuditLog(store, head, onProgress, ownsStore ? async () => {
      await store.close()
      await release()
    } : release)
  }

  /** Opens the log for an audit: no replay, so a damaged log opens too. */
  static async open(options: AuditOpenOptions): Promise<AuditLog> {
    return AuditLog.#open(options)
  }

  /**
   * Imports JSON Lines (see importLines) into a new database: at `location`, which must not exist or
   * be an empty folder (the database is built beside it and moved into place only when whole, so a
   * refused import leaves nothing and nothing there is ever removed), into an empty `db`, or into
   * the empty log of a `postgres` schema (in one transaction: see postgres-import.ts).
   */
  static async import(
    options: Omit<AuditOpenOptions, 'copy'>,
    lines: AsyncIterable<string>,
  ): Promise<{ records: number }> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an object', options)
    const { location, db, postgres, onProgress } = readOwn(options, 'options', ['location', 'db', 'postgres', 'onProgress'])
    const progress = checkOptions(location, db, undefined, onProgress, undefined, postgres)
    if (postgres !== undefined) return { records: await importIntoPostgres(postgres as PostgresOptions, lines, (seq) => progress?.(seq, seq)) }
    const importInto = async (store: LevelLogStore): Promise<{ records: number }> => ({
      records: await importLines(store, lines, (seq) => progress?.(seq, seq)),
    })
    if (db !== undefined) {
      const store = await openDatabase(db as AnyLevel, { writer: true })
      try {
        return await importInto(store)
      } finally {
        await store.close()
      }
    }
    const target = location as string
    const unreserve = reserveLocation(target)
    try {
      return await buildNewFolder(target, async (path) => {
        const database = new Level(path)
        try {
          await database.open({ createIfMissing: true })
        } catch (error) {
          throw new OpenFailedError(describeOpenFailure(path, error), { cause: error })
        }
        try {
          return await importInto(await LevelLogStore.open(database, { sync: true, owned: true }))
        } finally {
          await database.close()
        }
      })
    } finally {
      unreserve()
    }
  }

  static async #open(options: AuditOpenOptions): Promise<AuditLog> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an object', options)
    const { location, db, store, postgres, copy, onProgress } = readOwn(options, 'options', ['location', 'db', 'store', 'postgres', 'copy', 'onProgress'])
    const progress = checkOptions(location, db, copy, onProgress, store, postgres)
    if (store !== undefined) return AuditLog.#over(checkStore(store, 'options.store'), progress, async () => {}, false)
    // An audit creates nothing: a role that may only read is enough.
    if (postgres !== undefined) return AuditLog.#over(await PostgresLogStore.open(postgres as PostgresOptions, { sync: true, create: false }), progress, async () => {})
    if (db !== undefined) return AuditLog.#over(await openDatabase(db as AnyLevel, { writer: false }), progress, async () => {})
    const path = location as string
    await checkDatabaseFolder(path)
    if (copy === true) return AuditLog.#openCopy(path, false, progress)
    // The folder is reserved in this process before its LOCK is shared: closing any handle on a
    // locked file drops the process's lock on it.
    const unreserve = reserveLocation(path)
    try {
      for (let attempt = 1; ; attempt++) {
        const before = await folderFingerprint(path)
        const log = await AuditLog.#openCopy(path, true, progress)
        // Holding the LOCK now, the copy is the folder as it is, unless a writer came and went while it was copied.
        if ((await folderFingerprint(path)) === before) return log.#alsoOnClose(unreserve)
        await log.close()
        if (attempt === 3) throw new OpenFailedError(`${path} changed while it was being copied for the audit, three times; try again`)
      }
    } catch (error) {
      unreserve()
      throw error
    }
  }

  /** Opens a copy of `location` (shareLock: see AuditCopyOptions); close() removes it. */
  static async #openCopy(location: string, shareLock: boolean, progress: AuditOpenOptions['onProgress']): Promise<AuditLog> {
    const copy = await copyForAudit(location, { shareLock })
    let unreserve = (): void => {}
    const database = new Level(copy.path)
    const release = async (): Promise<void> => {
      try {
        await database.close()
      } finally {
        unreserve()
        await copy.remove()
      }
    }
    try {
      // The copy is this process's own, reserved so that its LOCK is never opened twice here.
      unreserve = reserveLocation(copy.path)
      try {
        await database.open({ createIfMissing: false })
      } catch (error) {
        throw openError(location, error)
      }
      return await AuditLog.#over(await LevelLogStore.open(database, { sync: true }), progress, release)
    } catch (error) {
      await release().catch(() => {})
      throw error instanceof ChangeSourcesError ? error : new OpenFailedError(describeOpenFailure(location, error), { cause: error })
    }
  }

  /** The seq of the last stored record (0 when the log is empty). */
  get head(): number {
    return this.#head
  }

  /** The records from `from` (default 1) to `to` (default the head), checked on the way; pulled in chunks. */
  read(range?: ReadRange): AsyncIterable<ChangeRecord> {
    this.#checkOpen('read')
    return this.#queries.read(range)
  }

  /** The state after a seq, or at a time: see PointInTime. */
  at(target: PointInTimeTarget): Promise<PointInTime> {
    this.#checkOpen('at')
    return this.#queries.at(target)
  }

  /** The records and the claim intervals of one change source or master. */
  history(query?: HistoryQuery): Promise<History> {
    this.#checkOpen('history')
    return this.#queries.history(query)
  }

  /** Walks the whole log; reports the first bad seq, or the length and head hash. Does not throw for a damaged log. */
  verify(): Promise<VerifyReport> {
    this.#checkOpen('verify')
    return this.#queries.verify()
  }

  /** The stored records from `from` to `to` as JSON Lines (without newlines), exactly as stored. */
  export(range?: ReadRange): AsyncIterable<string> {
    this.#checkOpen('export')
    const { from, to } = this.#queries.range(range)
    return exportLines(this.#store, { from, to })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // The audit reads under way finish before the database closes under them.
    await this.#queries.close()
    await this.#release()
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new ClosedError(operation)
  }

  #alsoOnClose(step: () => void): AuditLog {
    const release = this.#release
    this.#release = async () => {
      try {
        await release()
      } finally {
        step()
      }
    }
    return this
  }
}

function checkOptions(location: unknown, db: unknown, copy: unknown, onProgress: unknown, store?: unknown, postgres?: unknown): AuditOpenOptions['onProgress'] {
  if ([location, db, store, postgres].filter((given) => given !== undefined).length !== 1) {
    throw new InvalidArgumentError('options', 'an object with exactly one of location, db, store and postgres', { location, db, store })
  }
  if (location !== undefined && (typeof location !== 'string' || location.length === 0 || location.includes('\0'))) {
    throw new InvalidArgumentError('options.location', 'a non-empty path', location)
  }
  if (db !== undefined && !isAbstractLevel(db)) throw new InvalidArgumentError('options.db', 'an abstract-level database', db)
  if (copy !== undefined && typeof copy !== 'boolean') throw new InvalidArgumentError('options.copy', 'a boolean', copy)
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidArgumentError('options.onProgress', 'a function', onProgress)
  return onProgress as AuditOpenOptions['onProgress']
}

/** The store over a database given as `db`, opened if needed; a database that will not open is a typed error. */
async function openDatabase(database: AnyLevel, options: { writer: boolean }): Promise<LevelLogStore> {
  try {
    await database.open()
  } catch (error) {
    throw openError(undefined, error)
  }
  try {
    return await LevelLogStore.open(database, { sync: true, writer: options.writer })
  } catch (error) {
    if (error instanceof ChangeSourcesError) throw error
    throw new OpenFailedError(`reading the log failed: ${messageOf(error)}`, { cause: error })
  }
}

/** A folder holding a LevelDB database (a CURRENT file); why not, in words, when it cannot be read. */
async function checkDatabaseFolder(location: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(location)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new LocationNotFoundError(location, { cause: error })
    throw new OpenFailedError(describeOpenFailure(location, error), { cause: error })
  }
  if (!names.includes('CURRENT')) throw new LocationNotFoundError(location)
}
