/**
 * The embedded log store: one LevelDB database (or any abstract-level database), one key per record.
 */
import type { AbstractLevel } from 'abstract-level'
import { AppendConflictError } from './errors.js'
import type { LogStore, SnapshotPart, StoredEntry, StoredSnapshotPart } from './log-store.js'

/** Any abstract-level database: `level` on disk, `memory-level`, a sublevel. */
export type AnyLevel = AbstractLevel<any, any, any>

const LOG_PREFIX = 'log!'
// After every hex digit, so that `lt: LOG_END` bounds the log's keys.
const LOG_END = 'log!~'
const READ_CHUNK = 1000
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
  readonly #sync: boolean
  #head: number
  /** The last seq a failed append may have stored beyond the head; 0 when none may have. */
  #inDoubtUpTo = 0

  private constructor(db: AnyLevel, sync: boolean, head: number) {
    this.#db = db
    this.#sync = sync
    this.#head = head
  }

  /**
   * Wraps an open database. Keys and values are strings; a database with other default encodings
   * is used through a sublevel that fixes them.
   */
  static async open(db: AnyLevel, options: { sync: boolean }): Promise<LevelLogStore> {
    const utf8 = db.keyEncoding().commonName === 'utf8' && db.valueEncoding().commonName === 'utf8'
    const strings: AnyLevel = utf8 ? db : db.sublevel('changesources', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const last = await strings.keys({ gte: LOG_PREFIX, lt: LOG_END, reverse: true, limit: 1 }).all()
    return new LevelLogStore(strings, options.sync, last.length === 0 ? 0 : seqOfKey(last[0] as string))
  }

  get head(): number {
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

  async append(entries: readonly StoredEntry[], expectedHead: number): Promise<void> {
    // One process holds the LevelDB lock and this object serializes its appends, so the head in
    // memory is the head on disk; the check guards against a caller that lost track of it.
    if (expectedHead !== this.#head) throw new AppendConflictError(expectedHead, this.#head)
    if (entries.length === 0) return
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
      await this.#undo(entries)
      throw error
    }
    this.#head = last
    this.#inDoubtUpTo = 0
  }

  async writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    const batch = this.#db.batch()
    for (const part of parts) {
      if (part.value === null) batch.del(SNAPSHOT_PREFIX + part.name)
      else batch.put(SNAPSHOT_PREFIX + part.name, part.value)
    }
    // Not synced: a snapshot lost to a crash only makes the next open fold more of the log.
    await batch.write(NO_SYNC)
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

  async close(): Promise<void> {
    // The database itself is closed by whoever opened it (see change-sources.ts).
  }
}
