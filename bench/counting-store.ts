/**
 * A store that passes everything to another and counts its appends and the ones that lost the
 * race for the head, which the public API does not report. Each call adds one promise hop to a
 * database round trip, far below what the bench can resolve.
 */
import type { AppendOutcome, LogStore, SnapshotPart, StoredEntry, StoredSnapshotPart } from '../src/index.js'

export class CountingStore implements LogStore {
  appends = 0
  lost = 0
  /** Entries of the appends that stored them. */
  appended = 0
  readonly writers: LogStore['writers']

  constructor(readonly inner: LogStore) {
    this.writers = inner.writers
  }

  head(): Promise<number> {
    return this.inner.head()
  }

  read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]> {
    return this.inner.read(range)
  }

  async append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome> {
    this.appends += 1
    const outcome = await this.inner.append(entries, expectedHead)
    if (outcome.appended) this.appended += entries.length
    else this.lost += 1
    return outcome
  }

  /** Passed through, so that the bench measures the writer as it runs on the store (turns included). */
  get takeTurn(): LogStore['takeTurn'] {
    const inner = this.inner
    if (inner.takeTurn === undefined) return undefined
    return async () => {
      const turn = await inner.takeTurn!()
      return {
        head: () => turn.head(),
        append: async (entries, expectedHead) => {
          this.appends += 1
          const outcome = await turn.append(entries, expectedHead)
          if (outcome.appended) this.appended += entries.length
          else this.lost += 1
          return outcome
        },
        release: () => turn.release(),
      }
    }
  }

  onAppended(listener: (head: number) => void): () => void {
    if (this.inner.onAppended === undefined) return () => {}
    return this.inner.onAppended(listener)
  }

  writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    return this.inner.writeSnapshot(parts)
  }

  readSnapshot(prefix: string): AsyncIterable<readonly StoredSnapshotPart[]> {
    return this.inner.readSnapshot(prefix)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
