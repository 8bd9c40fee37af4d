/**
 * The connector: Buildbot's `master.db.changesources` API over the event log.
 */
import { readdir } from 'node:fs/promises'
import { Level } from 'level'
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs'
import { ChangeStream } from './change-stream.js'
import {
  ChangeSourceAlreadyClaimedError,
  ChangeSourcesError,
  ClosedError,
  CorruptLogError,
  InvalidArgumentError,
  LocationLockedError,
  OpenFailedError,
  messageOf,
} from '../errors.js'
import type { ChangeRecord } from '../domain/events.js'
import { LevelLogStore, type AnyLevel } from '../stores/level/level-log-store.js'
import type { LogStore } from '../stores/log-store.js'
import { checkStore } from '../stores/store-checks.js'
import { PostgresLogStore, type PostgresOptions } from '../stores/postgres/postgres-log-store.js'
import { lockLocation } from '../stores/level/open-locations.js'
import { isAbstractLevel, openError } from '../stores/level/open-failure.js'
import {
  findIdByName,
  getChangeSource,
  getChangeSources,
  type ChangeSource,
  type ChangeSourcesFilter,
  type ChangeSourcesState,
} from '../domain/projection.js'
import { readRecordChunks } from '../log/log-reader.js'
import { restoreState } from './restore.js'
import { DEFAULT_SNAPSHOT_EVERY } from '../snapshots/snapshot.js'
import { Snapshotter } from '../snapshots/snapshotter.js'
import { AuditQueries, type ReadRange } from '../audit/audit-queries.js'
import type { History, HistoryQuery } from '../audit/history.js'
import type { PointInTime, PointInTimeTarget } from '../audit/point-in-time.js'
import type { VerifyReport } from '../audit/verify.js'
import { checkClaimOptions, checkClaimRefs, checkFilter, checkId, checkMasterIdOrNull, checkName, MAX_LEASE_MS, readOwn } from '../domain/validate.js'
import { claimOf, claimsOfMaster, getClaim, lapsedForHolder, type Claim } from '../domain/leases.js'
import { heldClaims } from './held-claims.js'
import { LeaseSweeper } from './lease-sweeper.js'
import { Writer } from './writer.js'

export interface OpenOptions {
  /** A folder for an embedded LevelDB database, created if missing. Give this or `db`. */
  location?: string
  /** An abstract-level database to use instead (memory-level, a sublevel, …); it is opened if needed, and not closed by close(). */
  db?: AnyLevel
  /**
   * Any log store instead (see docs/stores.md): the shared memory store, a third party's. With a
   * store of many writers, others' records reach the state, the queries and changes$ as ours do.
   * Not closed by close().
   */
  store?: LogStore
  /**
   * A log on PostgreSQL shared by several masters (docs/postgres.md): `{ connectionString }`, other
   * `pg` pool options, or `{ pool }`, with `schema` (default `changesources`) and `pollIntervalMs`.
   */
  postgres?: PostgresOptions
  /**
   * true (the default): an acknowledged change survives a crash of the machine (each batch is
   * fsynced). false: it survives a crash of the process, not of the machine.
   */
  sync?: boolean
  /**
   * The clock for record timestamps and lease deadlines, in milliseconds since the epoch. Defaults
   * to the scheduler's clock (Date.now for RxJS's asyncScheduler).
   */
  now?: () => number
  /**
   * Where the component waits for time to pass (the lease sweep, a lease running out in `claims$`):
   * an RxJS scheduler, asyncScheduler by default. A test gives a virtual one and moves time at will.
   */
  scheduler?: SchedulerLike
  /** How often the sweep records the expiry of leases that ran out (default 1000 ms); 0: never by itself (call expireLeases()). */
  sweepIntervalMs?: number
  /**
   * How far apart the clocks of the log's writers may be (default 1000 ms): a lease is taken from
   * its holder only this long after it ran out by the deciding writer's clock (docs/leases.md).
   */
  maxClockSkewMs?: number
  /**
   * Save the projection every this many records (default 10000), in the background (writes do not
   * wait for it), so that open folds only the records after the newest snapshot and parses its
   * pages only as they are reached. 0: never (open folds the whole log). See docs/log-format.md.
   */
  snapshotEvery?: number
}

export class ChangeSources {
  readonly #store: LogStore
  readonly #writer: Writer
  readonly #stream: ChangeStream
  readonly #release: () => Promise<void>
  readonly #audit: AuditQueries
  readonly #snapshotter: Snapshotter
  readonly #stopListening: () => void
  readonly #clock: Clock
  readonly #sweeper: LeaseSweeper
  #closing: Promise<void> | undefined

  /** Live records, each published once it is durable, in seq order. Completes on close(). */
  readonly changes$: Observable<ChangeRecord>

  private constructor(store: LogStore, state: ChangeSourcesState, clock: Clock, snapshotter: Snapshotter, release: () => Promise<void>) {
    this.#store = store
    this.#clock = clock
    this.#stream = new ChangeStream()
    this.changes$ = this.#stream.changes$
    this.#writer = new Writer({
      state,
      store,
      now: clock.now,
      maxClockSkewMs: clock.maxClockSkewMs,
      publish: (records) => this.#stream.publish(records),
      committed: (next, appended) => snapshotter.committed(next, appended),
    })
    this.#snapshotter = snapshotter
    this.#release = release
    this.#audit = new AuditQueries(store, () => this.#writer.state.seq, () => this.#writer.state)
    // Records that others append are folded in as soon as the store tells of them.
    this.#stopListening = store.onAppended?.((head) => this.#writer.noteHead(head)) ?? (() => {})
    this.#sweeper = new LeaseSweeper({
      intervalMs: clock.sweepIntervalMs,
      scheduler: clock.scheduler,
      now: clock.now,
      maxClockSkewMs: clock.maxClockSkewMs,
      state: () => this.#writer.state,
      moved: this.#stream.changes$,
      expire: () => this.#writer.submit({ type: 'ExpireLeases' }),
    })
  }

  static async open(options: OpenOptions): Promise<ChangeSources> {
    const { location, db, store: given, postgres, sync, snapshotEvery, ...clock } = checkOpenOptions(options)
    if (given !== undefined) return ChangeSources.#openOn(given, clock, snapshotEvery, async () => {})
    if (postgres !== undefined) {
      const store = await PostgresLogStore.open(postgres, { sync })
      return ChangeSources.#openOn(store, clock, snapshotEvery, () => store.close())
    }
    let database: AnyLevel
    let release: () => Promise<void>
    if (location !== undefined) {
      // Our own lock first: LevelDB's is dropped by any refused open of the folder in this process.
      const lock = await lockLocation(location, { create: true })
      // Before the Level is made: it starts opening itself on the next tick.
      await refuseHeadless(location).catch(async (error: unknown) => {
        await lock.release()
        throw error
      })
      database = new Level(location)
      release = async () => {
        try {
          await database.close()
        } finally {
          await lock.release()
        }
      }
    } else {
      database = db!
      release = async () => {}
    }
    try {
      try {
        await database.open()
      } catch (error) {
        throw openError(location, error)
      }
      let store: LevelLogStore
      try {
        store = await LevelLogStore.open(database, { sync, owned: location !== undefined, writer: true })
      } catch (error) {
        if (error instanceof ChangeSourcesError) throw error
        throw new OpenFailedError(`reading the log failed: ${messageOf(error)}`, { cause: error })
      }
      return await ChangeSources.#openOn(store, clock, snapshotEvery, async () => {
        try {
          await store.close()
        } finally {
          await release()
        }
      })
    } catch (error) {
      await release().catch(() => {})
      throw error
    }
  }

  /** The component over an open store: the newest trusted snapshot plus the records after it (the whole log when there is none). `release` undoes what opened the store. */
  static async #openOn(store: LogStore, clock: Clock, snapshotEvery: number, release: () => Promise<void>): Promise<ChangeSources> {
    try {
      const restored = await restoreState(store)
      const snapshotter = new Snapshotter(
        store,
        snapshotEvery,
        restored.snapshot.used ? { snapshot: restored.snapshot.stored, changes: restored.changes } : undefined,
        restored.obsoleteParts,
        { incremental: store.writers === 'single' },
      )
      return new ChangeSources(store, restored.state, clock, snapshotter, release)
    } catch (error) {
      await release().catch(() => {})
      if (error instanceof ChangeSourcesError) throw error
      throw new OpenFailedError(`reading the log failed: ${messageOf(error)}`, { cause: error })
    }
  }

  /** The seq of the last record in the log (0 when it is empty). */
  get head(): number {
    return this.#writer.state.seq
  }

  async findChangeSourceId(name: string): Promise<number> {
    this.#checkOpen('findChangeSourceId')
    const checkedName = checkName(name)
    // An existing name keeps its id forever, so it needs no place in the write queue.
    const known = findIdByName(this.#writer.state, checkedName)
    if (known !== undefined) return known
    const outcome = await this.#writer.submit({ type: 'RegisterChangeSource', name: checkedName })
    return findIdByName(outcome.state, checkedName)!
  }

  async setChangeSourceMaster(changesourceid: number, masterid: number | null): Promise<void> {
    this.#checkOpen('setChangeSourceMaster')
    const id = checkId('changesourceid', changesourceid)
    const master = checkMasterIdOrNull('masterid', masterid)
    await this.#writer.submit(
      master === null
        ? { type: 'ReleaseChangeSource', changesourceid: id }
        : { type: 'ClaimChangeSource', changesourceid: id, masterid: master },
    )
  }

  async trySetChangeSourceMaster(changesourceid: number, masterid: number | null): Promise<boolean> {
    try {
      await this.setChangeSourceMaster(changesourceid, masterid)
      return true
    } catch (error) {
      if (error instanceof ChangeSourceAlreadyClaimedError) return false
      throw error
    }
  }

  /**
   * Claims a change source for a master and returns the claim with its fencing token. With
   * `{ leaseMs }` the claim is a lease: it lasts that long after the claim or the master's last
   * renewLeases(), and then the next claim by any master takes it over, or the sweep ends it.
   * Without, it is setChangeSourceMaster's claim, which never expires. A claim held by another
   * master is refused with ChangeSourceAlreadyClaimedError, unless its lease has run out; a master
   * that holds the claim already gets it back unchanged. See docs/leases.md.
   */
  async claimChangeSource(changesourceid: number, masterid: number, options?: { leaseMs?: number }): Promise<Claim> {
    this.#checkOpen('claimChangeSource')
    const id = checkId('changesourceid', changesourceid)
    const master = checkId('masterid', masterid)
    const leaseMs = checkClaimOptions(options)
    const outcome = await this.#writer.submit(
      leaseMs === null ? { type: 'ClaimChangeSource', changesourceid: id, masterid: master } : { type: 'ClaimChangeSource', changesourceid: id, masterid: master, leaseMs },
    )
    const claimed = outcome.records.find((record) => record.type === 'MasterClaimed')
    // The claim just made, or the one the master held already (a re-claim appends nothing).
    const current = getClaim(outcome.state, id)
    if (claimed === undefined || current?.token === claimed.seq) return current!
    // Ended already by a command later in the same batch: the claim as it was made.
    return Object.freeze({ changesourceid: id, masterid: master, token: claimed.seq, since: claimed.timestamp, leaseMs, expiresAt: leaseMs === null ? null : claimed.timestamp + leaseMs })
  }

  /**
   * Renews every lease the master holds: each lasts its length again from now. With `claims` (the
   * claims the master believes it holds, as claims$ or claimChangeSource gave them), the renewal
   * happens only if each is still its live claim; otherwise ClaimLostError, and nothing changes.
   * Resolves with the master's live leased claims after the renewal. A lease that ran out is not
   * renewed: its expiry is recorded instead.
   */
  async renewLeases(masterid: number, claims?: ReadonlyArray<{ readonly changesourceid: number; readonly token: number }>): Promise<Claim[]> {
    this.#checkOpen('renewLeases')
    const master = checkId('masterid', masterid)
    const named = claims === undefined ? null : checkClaimRefs('claims', claims)
    const outcome = await this.#writer.submit({ type: 'RenewLeases', masterid: master, claims: named })
    const now = this.#clock.now()
    return claimsOfMaster(outcome.state, master)
      .filter((claim) => claim.leaseMs !== null && !lapsedForHolder(outcome.state, claim, now))
      .map((claim) => claimOf(outcome.state, claim))
  }

  /**
   * The owner-checked release: ends the claim of `token` (the token its claim returned), and fails
   * with ClaimLostError, changing nothing, when the change source's claim is no longer that one
   * or its lease has run out.
   */
  async releaseChangeSource(changesourceid: number, token: number): Promise<void> {
    this.#checkOpen('releaseChangeSource')
    await this.#writer.submit({ type: 'ReleaseChangeSource', changesourceid: checkId('changesourceid', changesourceid), token: checkId('token', token) })
  }

  /** Records the expiry of every lease that has run out (by now − maxClockSkewMs), as the sweep does; resolves with their change source ids. */
  async expireLeases(): Promise<number[]> {
    this.#checkOpen('expireLeases')
    const outcome = await this.#writer.submit({ type: 'ExpireLeases' })
    return outcome.records.flatMap((record) => ('changesourceid' in record ? [record.changesourceid] : []))
  }

  /**
   * The current claim of a change source: master, token, since when, lease and deadline; null when
   * nobody holds it. A lease that ran out is still the claim until its expiry is recorded.
   */
  async getClaim(changesourceid: number): Promise<Claim | null> {
    this.#checkOpen('getClaim')
    return getClaim(this.#writer.state, checkId('changesourceid', changesourceid))
  }

  /**
   * The live claims a master holds (with their tokens), now and whenever that set changes: a claim
   * leaves it as soon as this process knows it is lost (a record ends it, or its lease runs out by
   * the clock). What a master starts and stops its pollers on (docs/leases.md). Completes on close().
   */
  claims$(masterid: number): Observable<readonly Claim[]> {
    this.#checkOpen('claims$')
    return heldClaims(checkId('masterid', masterid), {
      state: () => this.#writer.state,
      moved: this.#stream.changes$,
      now: this.#clock.now,
      scheduler: this.#clock.scheduler,
    })
  }

  async getChangeSource(changesourceid: number): Promise<ChangeSource | null> {
    this.#checkOpen('getChangeSource')
    return getChangeSource(this.#writer.state, checkId('changesourceid', changesourceid))
  }

  async getChangeSources(filter?: ChangeSourcesFilter): Promise<ChangeSource[]> {
    this.#checkOpen('getChangeSources')
    return getChangeSources(this.#writer.state, checkFilter(filter))
  }

  async masterDeactivated(masterid: number): Promise<number[]> {
    this.#checkOpen('masterDeactivated')
    const outcome = await this.#writer.submit({ type: 'DeactivateMaster', masterid: checkId('masterid', masterid) })
    return outcome.records.flatMap((record) => ('changesourceid' in record ? [record.changesourceid] : []))
  }

  /**
   * Waits until the projection has caught up with the store's head as it is now (others' records
   * folded in and published), and resolves with that seq. A query answers from the projection: with
   * several writers it may not yet show what another writer appended a moment ago; after
   * `await catchUp()` it shows at least everything appended before the call.
   */
  catchUp(): Promise<number> {
    this.#checkOpen('catchUp')
    return this.#writer.catchUp()
  }

  /** The records from seq `from` (default 1) on, then the live ones: no gap, no duplicate. */
  watch(options: { from?: number } = {}): Observable<ChangeRecord> {
    this.#checkOpen('watch')
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an object', options)
    const { from } = readOwn(options, 'options', ['from'])
    const start = from === undefined ? 1 : checkId('options.from', from)
    return this.#stream.watch(start, () => this.head, (first, last) => readRecordChunks(this.#store, { from: first, to: last }))
  }

  /**
   * The records from `from` (default 1) to `to` (default the head when called), in seq order, each
   * checked as it is read; pulled from the log in chunks, so memory stays bounded.
   */
  read(range?: ReadRange): AsyncIterable<ChangeRecord> {
    this.#checkOpen('read')
    return this.#audit.read(range)
  }

  /** A read-only view of the state after `{ seq }` or at `{ time }`, answering getChangeSource(s) as this component did then. */
  at(point: PointInTimeTarget): Promise<PointInTime> {
    this.#checkOpen('at')
    return this.#audit.at(point)
  }

  /** The records of one change source (`changesourceid` or `name`) or master, and its claims as intervals. */
  history(query?: HistoryQuery): Promise<History> {
    this.#checkOpen('history')
    return this.#audit.history(query)
  }

  /** Walks the whole log: the first bad seq, or the length and head hash. Reports a damaged log rather than throwing. */
  verify(): Promise<VerifyReport> {
    this.#checkOpen('verify')
    return this.#audit.verify()
  }

  /** Waits for the pending writes (and a snapshot being written), completes the streams, and closes the database if it opened it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // No news of others' records from now on: a catch-up must not run into a completed stream.
      this.#stopListening()
      this.#sweeper.stop()
      await this.#writer.idle()
      await this.#snapshotter.settled()
      await this.#stream.complete()
      await this.#audit.close()
      await this.#release()
    })()
    return this.#closing
  }

  #checkOpen(operation: string): void {
    if (this.#closing !== undefined) throw new ClosedError(operation)
  }
}

/** Time, as the component reads it and waits for it. */
interface Clock {
  readonly now: () => number
  readonly scheduler: SchedulerLike
  readonly sweepIntervalMs: number
  readonly maxClockSkewMs: number
}

const DEFAULT_SWEEP_INTERVAL_MS = 1000
const DEFAULT_MAX_CLOCK_SKEW_MS = 1000

function checkOpenOptions(options: unknown): Clock & { sync: boolean; snapshotEvery: number } & Pick<OpenOptions, 'location' | 'db' | 'store' | 'postgres'> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an object', options)
  const { location, db, store, postgres, sync, now, scheduler, sweepIntervalMs, maxClockSkewMs, snapshotEvery } = readOwn(options, 'options', [
    'location', 'db', 'store', 'postgres', 'sync', 'now', 'scheduler', 'sweepIntervalMs', 'maxClockSkewMs', 'snapshotEvery',
  ])
  if ([location, db, store, postgres].filter((given) => given !== undefined).length !== 1) {
    throw new InvalidArgumentError('options', 'an object with exactly one of location, db, store and postgres', options)
  }
  if (location !== undefined && (typeof location !== 'string' || location.length === 0 || location.includes('\0'))) {
    throw new InvalidArgumentError('options.location', 'a non-empty path', location)
  }
  if (db !== undefined && !isAbstractLevel(db)) throw new InvalidArgumentError('options.db', 'an abstract-level database', db)
  if (sync !== undefined && typeof sync !== 'boolean') throw new InvalidArgumentError('options.sync', 'a boolean', sync)
  if (now !== undefined && typeof now !== 'function') throw new InvalidArgumentError('options.now', 'a function', now)
  if (scheduler !== undefined && !isScheduler(scheduler)) throw new InvalidArgumentError('options.scheduler', 'an RxJS scheduler (now() and schedule())', scheduler)
  const milliseconds = (argument: string, value: unknown, otherwise: number): number => {
    if (value === undefined) return otherwise
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_LEASE_MS) {
      throw new InvalidArgumentError(argument, `a whole number of milliseconds from 0 to ${MAX_LEASE_MS}`, value)
    }
    return value
  }
  if (snapshotEvery !== undefined && (typeof snapshotEvery !== 'number' || !Number.isSafeInteger(snapshotEvery) || snapshotEvery < 0)) {
    throw new InvalidArgumentError('options.snapshotEvery', 'a non-negative safe integer (0: no snapshots)', snapshotEvery)
  }
  const chosenScheduler = (scheduler as SchedulerLike | undefined) ?? asyncScheduler
  return {
    location: location as string | undefined,
    db: db as AnyLevel | undefined,
    store: store === undefined ? undefined : checkStore(store, 'options.store'),
    postgres: postgres as PostgresOptions | undefined,
    sync: (sync as boolean | undefined) ?? true,
    now: checkedClock(now === undefined ? () => chosenScheduler.now() : (now as () => unknown)),
    scheduler: chosenScheduler,
    sweepIntervalMs: milliseconds('options.sweepIntervalMs', sweepIntervalMs, DEFAULT_SWEEP_INTERVAL_MS),
    maxClockSkewMs: milliseconds('options.maxClockSkewMs', maxClockSkewMs, DEFAULT_MAX_CLOCK_SKEW_MS),
    snapshotEvery: (snapshotEvery as number | undefined) ?? DEFAULT_SNAPSHOT_EVERY,
  }
}

function isScheduler(value: unknown): value is SchedulerLike {
  return typeof value === 'object' && value !== null && typeof (value as SchedulerLike).now === 'function' && typeof (value as SchedulerLike).schedule === 'function'
}

// A timestamp that JSON cannot carry would make the record unreadable, and the log with it.
function checkedClock(now: () => unknown): () => number {
  return () => {
    const time = now()
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      throw new InvalidArgumentError('options.now', 'a function returning a finite number of milliseconds', time)
    }
    return time
  }
}

/**
 * A folder with LevelDB's data files but no CURRENT file is a damaged database. LevelDB, which
 * creates a database where CURRENT is missing, would start an empty one over it and delete the old
 * tables as obsolete: the open would succeed with an empty state, and the data would be gone.
 */
async function refuseHeadless(location: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(location)
  } catch {
    return // No folder yet (or not one we can list): LevelDB creates it, or reports why not.
  }
  if (names.includes('CURRENT')) return
  // A MANIFEST alone is what a crash during the very first open leaves: no data, safe to create.
  const dataFiles = names.filter((name) => /^\d+\.(?:log|ldb|sst)$/.test(name))
  if (dataFiles.length > 0) {
    throw new CorruptLogError(
      undefined,
      `${location} holds LevelDB data files (${dataFiles.slice(0, 3).join(', ')}) but no CURRENT file; ` +
        'opening it would start an empty database over them, so it is left untouched',
    )
  }
}

