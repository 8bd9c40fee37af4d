/**
 * The embedded log store: one LevelDB database (or any abstract-level database), one key per record.
 */
import type { AbstractLevel } from 'abstract-level'
import { CorruptLogError, WriteRefusedError, messageOf } from '../../errors.js'
import { reserveDatabase } from './open-locations.js'
import type { AppendOutcome, LogStore, SnapshotPart, StoredEntry, StoredSnapshotPart } from '../log-store.js'
import { checkAppend } from '../store-checks.js'

/** Any abstract-level database: `level` on disk, `memory-level`, a sublevel. */
export type AnyLevel = AbstractLevel<any, any, any>

const LOG_PREFIX = 'log!'
// After every hex digit, so that `lt: LOG_END` bounds the log's keys.
const LOG_END = 'log!~'
const READ_CHUNK = 1000
const APPENDED: AppendOutcome = Object.freeze({ appended: true })
// Snapshot parts live beside the log, under their own prefix (see snapshot.ts).
const SNAPSHOT_PREFIX = 'snapshot!'
// Shared write options, so that no write allocates its own; naming the encodings the store
// already uses spares abstract-level a copy of the options on every put.
const SYNC = Object.freeze({ sync: true, keyEncoding: 'utf8', valueEncoding: 'utf8' })
const NO_SYNC = Object.freeze({ sync: false, keyEncoding: 'utf8', valueEncoding: 'utf8' })

// Fixed-width hex, so that LevelDB's byte order is seq order (seqs stay below 2^53: 14 hex digits).
export function logKey(seq: number): string {
  return LOG_PREFIX + seq.toString(16).padStart(16, '0')
}

export function seqOfKey(key: string): number {
  return Number.parseInt(key.slice(LOG_PREFIX.length), 16)
}

export class LevelLogStore implements LogStore {
  readonly #db: AnyLevel
  readonly #root: AnyLevel
  readonly #sync: boolean
  readonly #owned: boolean
  #head: number
  /** The stored value at the head, to recognise the head after a reopen; undefined for an empty log. */
  #headValue: string | undefined
  /** The last seq a failed append may have stored beyond the head; 0 when none may have. */
  #inDoubtUpTo = 0
  /**
   * The first write that failed since the database was last opened, if one did. After it a LevelDB
   * write-ahead log may hold a torn record, and recovery skips whatever was written after one: no
   * later write may be acknowledged until the database has been reopened (see #recover).
   */
  #failedWrite: { error: unknown } | undefined
  #lastWrite: Promise<void> = Promise.resolve()

  readonly #unreserve: () => void

  private constructor(
    db: AnyLevel,
    root: AnyLevel,
    options: { sync: boolean; owned: boolean; unreserve: () => void },
    head: number,
    headValue: string | undefined,
  ) {
    this.#db = db
    this.#unreserve = options.unreserve
    this.#root = root
    this.#sync = options.sync
    this.#owned = options.owned
    this.#head = head
    this.#headValue = headValue
  }

  /**
   * Wraps an open database. Keys and values are strings; a database with other default encodings
   * is used through a sublevel that fixes them. `owned`: this store may close and reopen the
   * database (it was opened for it), which is how it recovers from a failed write.
   */
  static async open(db: AnyLevel, options: { sync: boolean; owned?: boolean; writer?: boolean }): Promise<LevelLogStore> {
    const utf8 = db.keyEncoding().commonName === 'utf8' && db.valueEncoding().commonName === 'utf8'
    const strings: AnyLevel = utf8 ? db : db.sublevel('changesources', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    // One writer per database in this process: a second would append after a head it never saw.
    const unreserve = options.writer === true ? reserveDatabase(strings) : () => {}
    try {
      const [head, headValue] = await lastEntry(strings)
      return new LevelLogStore(strings, db, { sync: options.sync, owned: options.owned ?? false, unreserve }, head, headValue)
    } catch (error) {
      unreserve()
      throw error
    }
  }

  readonly writers = 'single'

  async head(): Promise<number> {
    return this.#head
  }

  /** The head as this store last wrote or found it: its writer is the only one. */
  get knownHead(): number {
    return this.#head
  }

  async *read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]> {
    const to = range.to ?? Number.MAX_SAFE_INTEGER
    if (range.from > to) return
    const iterator = this.#db.iterator({ gte: logKey(Math.max(1, range.from)), lte: logKey(to) })
    const nextChunk = () => {
      const reading = iterator.nextv(READ_CHUNK) as Promise<Array<[string, string]>>
      // Read ahead while the caller works on the chunk before; if the caller stops early, close()
      // settles this read and nobody awaits it: its failure must not surface as unhandled.
      reading.catch(() => {})
      return reading
    }
    try {
      let ahead = nextChunk()
      while (true) {
        const chunk = await ahead
        if (chunk.length === 0) return
        ahead = nextChunk()
        yield chunk.map(([key, value]) => ({ seq: seqOfKey(key), value }))
      }
    } finally {
      await iterator.close()
    }
  }

  append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome> {
    checkAppend(entries, expectedHead)
    let outcome: AppendOutcome = APPENDED
    return this.#oneAtATime(async () => {
      outcome = await this.#append(entries, expectedHead)
    }).then(() => outcome)
  }

  writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    return this.#oneAtATime(() => this.#writeSnapshot(parts))
  }

  /**
   * Writes run one at a time, so that a failed one is known before the next starts: LevelDB would
   * append a write issued beside a failing one after its torn record, and recovery would drop it.
   */
  #oneAtATime(write: () => Promise<void>): Promise<void> {
    const done = this.#lastWrite.then(write)
    this.#lastWrite = done.catch(() => {})
    return done
  }

  async #append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome> {
    if (this.#failedWrite !== undefined) await this.#recover()
    // One process holds the lock and this object serializes its appends, so the head in memory is
    // the head on disk; the check answers a caller that lost track of it.
    if (expectedHead !== this.#head) return { appended: false, head: this.#head }
    if (entries.length === 0) return APPENDED
    const last = entries[entries.length - 1]!.seq
    try {
      if (entries.length === 1 && this.#inDoubtUpTo <= last) {
        // One record and nothing beside it: a plain put (as atomic as a batch of one, and cheaper
        // than a chained batch of one, the common case of a sequential caller).
        await this.#db.put(logKey(entries[0]!.seq), entries[0]!.value, this.#sync ? SYNC : NO_SYNC)
      } else {
        // The chained form: the array form copies every operation with the options spread into it.
        const batch = this.#db.batch()
        for (const entry of entries) batch.put(logKey(entry.seq), entry.value)
        // Records that a failed append may have left past the new end go in the same batch (see #undo).
        for (let seq = last + 1; seq <= this.#inDoubtUpTo; seq++) batch.del(logKey(seq))
        await batch.write(this.#sync ? SYNC : NO_SYNC)
      }
    } catch (error) {
      this.#failedWrite ??= { error }
      await this.#undo(entries)
      throw error
    }
    this.#head = last
    this.#headValue = entries[entries.length - 1]!.value
    this.#inDoubtUpTo = 0
    return APPENDED
  }

  async #writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    if (this.#failedWrite !== undefined) await this.#recover()
    const batch = this.#db.batch()
    for (const part of parts) {
      if (part.value === null) batch.del(SNAPSHOT_PREFIX + part.name)
      else batch.put(SNAPSHOT_PREFIX + part.name, part.value)
    }
    // Not synced: a snapshot lost to a crash only makes the next open fold more of the log. Its
    // failure still counts: it can tear the write-ahead log as a record's can.
    try {
      await batch.write(NO_SYNC)
    } catch (error) {
      this.#failedWrite ??= { error }
      throw error
    }
  }

  /**
   * Makes writing safe again after a failed write, or refuses with WriteRefusedError. A database
   * that keeps nothing past the process has no write-ahead log to tear: it is checked and used
   * again. A database opened for this store is closed and reopened, which makes LevelDB recover its
   * log as after a crash and start a new one; then the head found must be the head acknowledged,
   * and whatever the failed write stored past it is deleted. A durable database opened by the
   * caller cannot be reopened here: writes are refused until the caller reopens it.
   */
  async #recover(): Promise<void> {
    const failed = this.#failedWrite!
    const permanent = this.#root.supports.permanence
    if (permanent && !this.#owned) throw new WriteRefusedError({ cause: failed.error })
    try {
      if (permanent) {
        await this.#root.close()
        await this.#root.open()
      }
      const [head] = await lastEntry(this.#db)
      if (head < this.#head || (head >= this.#head && this.#head > 0 && (await this.#db.get(logKey(this.#head))) !== this.#headValue)) {
        // Acknowledged records are gone or changed: nothing written now could be trusted either.
        throw new CorruptLogError(Math.min(head, this.#head) + 1, 'records acknowledged before a failed write are missing after reopening the database')
      }
      if (head > this.#head) {
        const undo = this.#db.batch()
        for (let seq = this.#head + 1; seq <= head; seq++) undo.del(logKey(seq))
        await undo.write(SYNC)
      }
    } catch (error) {
      if (error instanceof CorruptLogError) {
        this.#failedWrite = { error }
        throw error
      }
      throw new Error(`reopening the database after a failed write failed: ${messageOf(error)}`, { cause: error })
    }
    this.#inDoubtUpTo = 0
    this.#failedWrite = undefined
  }

  /**
   * A write that reports failure may still have stored its records (an fsync that fails after the
   * write). They must not outlive the failure: a reopen would replay changes whose commands were
   * rejected, and a shorter next append would leave them after its end, breaking the chain. Deletes
   * them now; if that fails too, the next append deletes them in its own batch.
   */
  async #undo(entries: readonly StoredEntry[]): Promise<void> {
    this.#inDoubtUpTo = Math.max(this.#inDoubtUpTo, entries[entries.length - 1]!.seq)
    try {
      const undo = this.#db.batch()
      for (let seq = this.#head + 1; seq <= this.#inDoubtUpTo; seq++) undo.del(logKey(seq))
      await undo.write(this.#sync ? SYNC : NO_SYNC)
      this.#inDoubtUpTo = 0
    } catch {
      // Still in doubt: see append.
    }
  }

  async *readSnapshot(prefix: string): AsyncIterable<readonly StoredSnapshotPart[]> {
    // '\uffff' sorts after every character a part name uses.
    const iterator = this.#db.iterator({ gte: SNAPSHOT_PREFIX + prefix, lt: SNAPSHOT_PREFIX + prefix + '\uffff' })
    try {
      while (true) {
        const chunk = (await iterator.nextv(READ_CHUNK)) as Array<[string, string]>
        if (chunk.length === 0) return
        yield chunk.map(([key, value]) => ({ name: key.slice(SNAPSHOT_PREFIX.length), value }))
      }
    } finally {
      await iterator.close()
    }
  }

  /** Whether writes wait for a reopen of the database: after a failed write to a durable database opened by the caller. */
  get writesRefused(): boolean {
    return this.#failedWrite !== undefined && this.#root.supports.permanence && !this.#owned
  }

  async close(): Promise<void> {
    this.#unreserve()
    // The database itself is closed by whoever opened it (see change-sources.ts).
  }
}

/** The last record's seq and stored value; 0 and undefined for an empty log. */
async function lastEntry(db: AnyLevel): Promise<[number, string | undefined]> {
  const last = (await db.iterator({ gte: LOG_PREFIX, lt: LOG_END, reverse: true, limit: 1 }).all()) as Array<[string, string]>
  return last.length === 0 ? [0, undefined] : [seqOfKey(last[0]![0]), last[0]![1]]
}
