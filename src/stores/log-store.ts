/**
 * The store contract: where encoded records live. A store holds strings keyed by seq and knows
 * nothing of their meaning; decoding, the hash chain and the rules live above it. Any object with
 * these methods can be given to `ChangeSources.open({ store })` and `AuditLog.open({ store })`;
 * docs/stores.md says how to write one and test/helpers/store-contract.ts is the suite it must pass.
 */

export interface StoredEntry {
  readonly seq: number
  readonly value: string
}

/**
 * A named part of the projection's snapshot (snapshots/snapshot.ts says what the parts are). The
 * store keeps the latest value of each name, apart from the log, and never interprets it. Writing a
 * part whose value is null deletes the part of that name.
 */
export interface SnapshotPart {
  readonly name: string
  readonly value: string | null
}

/** A part as the store holds it. */
export interface StoredSnapshotPart {
  readonly name: string
  readonly value: string
}

/**
 * What an append did: stored every entry, or none because the log's head was not the one expected.
 * A store may bring back the entries after the expected head that it read in the same round trip
 * (`missed`, from expectedHead + 1 on, in seq order, possibly fewer than up to `head`), which spares
 * the loser a read before it tries again.
 */
export type AppendOutcome =
  | { readonly appended: true }
  | { readonly appended: false; readonly head: number; readonly missed?: readonly StoredEntry[] }

/** A turn taken with `takeTurn()`: appends made through it are the only ones until it is released. */
export interface AppendTurn {
  /** The head while the turn is held: it does not move but by this turn's appends. */
  head(): Promise<number>
  append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome>
  /** Ends the turn (also after a failure); idempotent. */
  release(): Promise<void>
}

export interface LogStore {
  /**
   * `'single'`: this store object is the only writer of its log (LevelDB's lock ensures it), so an
   * append never loses a race and nobody else's records appear. `'many'`: other writers may append;
   * the store calls `onAppended` listeners when it learns of their records.
   */
  readonly writers: 'single' | 'many'
  /** The seq of the last stored entry as the store knows it now (0 when the log is empty); it never goes back. */
  head(): Promise<number>
  /**
   * The entries from `from` to `to` (inclusive; `to` defaults to the head), in seq order, without
   * gaps, in chunks. Pull-based: memory stays bounded by the chunk size however long the range.
   */
  read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]>
  /**
   * Appends `entries` (seqs expectedHead+1, +2, …) atomically: all are stored, or none. When the
   * head is not `expectedHead` (another writer appended first), stores none and resolves with
   * `{ appended: false, head }`: an ordinary outcome, not an error. Resolves `{ appended: true }`
   * once the entries are as durable as the store was configured to make them. Rejects when the
   * write failed; then the store must not acknowledge a later append that recovery could drop
   * (reopen, reconnect and check the head first, or refuse with WriteRefusedError), and where the
   * outcome is unknown (a connection lost during a commit) it must find out before the next append.
   */
  append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome>
  /**
   * Calls `listener` with a head the store has learnt of (from a notification or a periodic
   * check) whenever another writer may have appended; returns the function that stops it. A
   * listener may be told a head it already knows, and must read the log for the records. Stores
   * with a single writer need not implement it.
   */
  onAppended?(listener: (head: number) => void): () => void
  /**
   * For a writer that keeps losing the race: holds back every other writer's appends until
   * `release()`, so that the append made through the turn, after the writer caught up, cannot
   * lose. Must not hold them back for long if this process stops (a timeout on the server).
   * Stores of a single writer, and stores whose writers never starve, need not implement it.
   */
  takeTurn?(): Promise<AppendTurn>
  /**
   * Stores snapshot parts in one atomic write, replacing (or, for a null value, deleting) the parts
   * of the same names. It need not be durable: a snapshot that a crash loses is only a longer open.
   * Its failure is a failed write all the same: append()'s rule for the writes after one holds.
   * With several writers, parts from several processes may interleave: every reader checks a
   * snapshot against its checksums and the log before trusting it.
   */
  writeSnapshot(parts: readonly SnapshotPart[]): Promise<void>
  /** The snapshot parts whose names start with `prefix`, in name order, in chunks; none when there is no snapshot. */
  readSnapshot(prefix: string): AsyncIterable<readonly StoredSnapshotPart[]>
  /** Releases what this store object holds; a store given by the caller is closed by the caller. */
  close(): Promise<void>
}
