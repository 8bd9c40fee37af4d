/**
 * The audit reader: a log opened for reading only, without the component. It opens a location that
 * `ChangeSources.open` refuses (a damaged log: verify() reports where), never creates a database,
 * and can work on a copy of a location that a running master holds locked. ChangeSources answers
 * the same questions through the same functions (audit-queries.ts) on its open store.
 */
import { cp, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { ChangeSourcesError, ClosedError, InvalidArgumentError, LocationLockedError, LocationNotFoundError, OpenFailedError } from './errors.js'
import type { ChangeRecord } from './events.js'
import { LevelLogStore, type AnyLevel } from './level-log-store.js'
import { lockLocation, type LocationLock } from './open-locations.js'
import { AuditQueries, type ReadRange } from './audit-queries.js'
import type { History, HistoryQuery } from './history.js'
import type { PointInTime, PointInTimeTarget } from './point-in-time.js'
import type { VerifyReport } from './verify.js'
import { exportLines, importLines } from './log-transfer.js'
import { readOwn } from './validate.js'

export interface AuditOpenOptions {
  /** The folder of a LevelDB database written by ChangeSources. Give this or `db`. */
  location?: string
  /** An abstract-level database instead; opened if needed, not closed by close(). */
  db?: AnyLevel
  /**
   * Copy the folder to a temporary one and open the copy (removed by close()): for a location that
   * a running master holds locked. A copy taken while the log is written is recovered by LevelDB
   * like a crash; verify() then says whether its tail is whole.
   */
  copy?: boolean
  /** Called as long work (restore, verify, export, import) advances: records done, records in all. */
  onProgress?: (done: number, total: number) => void
}

export class AuditLog {
  readonly #queries: AuditQueries
  readonly #store: LevelLogStore
  readonly #release: () => Promise<void>
  #closed = false

  private constructor(store: LevelLogStore, onProgress: AuditOpenOptions['onProgress'], release: () => Promise<void>) {
    this.#store = store
    this.#queries = new AuditQueries(store, undefined, onProgress)
    this.#release = release
  }

  /** Opens the log for an audit: no replay, so a damaged log opens too. */
  static async open(options: AuditOpenOptions): Promise<AuditLog> {
    return AuditLog.#open(options, false)
  }

  /** Creates an empty database at `location` (or uses an empty `db`) and imports JSON Lines into it; see importLines. */
  static async import(
    options: Omit<AuditOpenOptions, 'copy'>,
    lines: AsyncIterable<string>,
  ): Promise<{ records: number }> {
    const log = await AuditLog.#open(options, true)
    try {
      return { records: await importLines(log.#store, lines, (seq) => options.onProgress?.(seq, seq)) }
    } finally {
      await log.close()
    }
  }

  static async #open(options: AuditOpenOptions, create: boolean): Promise<AuditLog> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an object', options)
    const { location, db, copy, onProgress } = readOwn(options, 'options', ['location', 'db', 'copy', 'onProgress'])
    if ((location === undefined) === (db === undefined)) {
      throw new InvalidArgumentError('options', 'an object with exactly one of location and db', options)
    }
    if (location !== undefined && (typeof location !== 'string' || location.length === 0)) {
      throw new InvalidArgumentError('options.location', 'a non-empty path', location)
    }
    if (copy !== undefined && typeof copy !== 'boolean') throw new InvalidArgumentError('options.copy', 'a boolean', copy)
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidArgumentError('options.onProgress', 'a function', onProgress)
    const progress = onProgress as AuditOpenOptions['onProgress']
    if (db !== undefined) {
      const database = db as AnyLevel
      await database.open()
      return new AuditLog(await LevelLogStore.open(database, { sync: true, writer: create }), progress, async () => {})
    }
    let path = location as string
    let removeCopy = async (): Promise<void> => {}
    if (!create || copy === true) {
      const exists = await stat(join(path, 'CURRENT')).then(
        () => true,
        () => false,
      )
      if (!exists) throw new LocationNotFoundError(path)
    }
    if (copy === true) {
      const folder = await mkdtemp(join(tmpdir(), 'changesources-audit-'))
      removeCopy = () => rm(folder, { recursive: true, force: true })
      try {
        // The LOCK file is copied as a plain file: the lock itself belongs to the process that holds it.
        await cp(path, join(folder, 'db'), { recursive: true })
      } catch (error) {
        await removeCopy()
        throw new OpenFailedError(`copying ${path} failed: ${(error as Error).message}`, { cause: error })
      }
      path = join(folder, 'db')
    }
    let lock: LocationLock
    try {
      lock = await lockLocation(path, { create })
    } catch (error) {
      await removeCopy()
      throw error
    }
    const database = new Level(path)
    const release = async (): Promise<void> => {
      try {
        await database.close()
      } finally {
        await lock.release()
        await removeCopy()
      }
    }
    try {
      try {
        await database.open({ createIfMissing: create })
      } catch (error) {
        const code = (error as { cause?: { code?: unknown } })?.cause?.code
        if (code === 'LEVEL_LOCKED') throw new LocationLockedError(location as string, 'another-process', { cause: error })
        throw new OpenFailedError(`the database could not be opened: ${(error as Error)?.message ?? String(error)}`, { cause: error })
      }
      return new AuditLog(await LevelLogStore.open(database, { sync: true, owned: true, writer: create }), progress, release)
    } catch (error) {
      await release().catch(() => {})
      throw error instanceof ChangeSourcesError ? error : new OpenFailedError(String((error as Error)?.message ?? error), { cause: error })
    }
  }

  /** The seq of the last stored record (0 when the log is empty). */
  get head(): number {
    return this.#store.head
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
    await this.#store.close()
    await this.#release()
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new ClosedError(operation)
  }
}
