/**
 * The log store: where encoded records live. Small on purpose, so that a shared-database store for
 * a cluster of masters can stand in for the embedded LevelDB one.
 *
 * A store holds strings keyed by seq and knows nothing of their meaning; decoding, the hash chain
 * and the rules live above it.
 */

export interface StoredEntry {
  readonly seq: number
  readonly value: string
}

/**
 * A named part of the projection's snapshot (snapshot.ts says what the parts are). The store keeps
 * the latest value of each name, apart from the log, and never interprets it. Writing a part
 * whose value is null deletes the part of that name.
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

export interface LogStore {
  /** The seq of the last stored entry; 0 when the log is empty. */
  readonly head: number
  /**
   * The entries from `from` to `to` (inclusive; `to` defaults to the head), in seq order, in chunks.
   * Pull-based: memory stays bounded by the chunk size however long the range.
   */
  read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]>
  /**
   * Appends `entries` (seqs head+1, head+2, …) atomically: all or none are stored. Rejects with an
   * AppendConflictError when the head is not `expectedHead`. Resolves once the entries are as
   * durable as the store was configured to make them.
   */
  append(entries: readonly StoredEntry[], expectedHead: number): Promise<void>
  /**
   * Stores snapshot parts in one atomic write, replacing (or, for a null value, deleting) the parts
   * of the same names. It need not be durable: a snapshot that a crash loses is only a longer open.
   */
  writeSnapshot(parts: readonly SnapshotPart[]): Promise<void>
  /** The snapshot parts whose names start with `prefix`, in name order, in chunks; none when there is no snapshot. */
  readSnapshot(prefix: string): AsyncIterable<readonly StoredSnapshotPart[]>
  close(): Promise<void>
}
