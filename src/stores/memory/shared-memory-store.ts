/**
 * A log store in this process's memory that several components can open at once: for tests of
 * the multi-writer logic and for single-process use, never for data that must outlive the process.
 * `holdNotifications()` keeps back the news of appends, so that tests can make projections stale
 * and appends lose races on purpose.
 */
import type { AppendOutcome, LogStore, SnapshotPart, StoredEntry, StoredSnapshotPart } from '../log-store.js'
import { checkAppend } from '../store-checks.js'

const READ_CHUNK = 1000

export class SharedMemoryStore implements LogStore {
  readonly writers = 'many'
  readonly #values: string[] = []
  readonly #parts = new Map<string, string>()
  readonly #listeners = new Set<(head: number) => void>()
  #held = false

  async head(): Promise<number> {
    return this.#values.length
  }

  async *read(range: { from: number; to?: number }): AsyncIterable<readonly StoredEntry[]> {
    // The range is bounded by the head when the read starts: later appends are another read's.
    const to = Math.min(range.to ?? this.#values.length, this.#values.length)
    for (let from = Math.max(1, range.from); from <= to; from += READ_CHUNK) {
      const last = Math.min(to, from + READ_CHUNK - 1)
      const chunk: StoredEntry[] = []
      for (let seq = from; seq <= last; seq++) chunk.push({ seq, value: this.#values[seq - 1]! })
      yield chunk
    }
  }

  async append(entries: readonly StoredEntry[], expectedHead: number): Promise<AppendOutcome> {
    checkAppend(entries, expectedHead)
    if (expectedHead !== this.#values.length) return { appended: false, head: this.#values.length }
    for (const entry of entries) this.#values.push(entry.value)
    this.#notify()
    return { appended: true }
  }

  onAppended(listener: (head: number) => void): () => void {
    this.#listeners.add(listener)
    return () => void this.#listeners.delete(listener)
  }

  /** From now on, appends are not announced (a lost notification), until releaseNotifications(). */
  holdNotifications(): void {
    this.#held = true
  }

  /** Announces the current head to every listener, and every append from now on. */
  releaseNotifications(): void {
    this.#held = false
    this.#notify()
  }

  async writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
    for (const part of parts) {
      if (part.value === null) this.#parts.delete(part.name)
      else this.#parts.set(part.name, part.value)
    }
  }

  async *readSnapshot(prefix: string): AsyncIterable<readonly StoredSnapshotPart[]> {
    const names = [...this.#parts.keys()].filter((name) => name.startsWith(prefix)).sort()
    for (let index = 0; index < names.length; index += READ_CHUNK) {
      yield names.slice(index, index + READ_CHUNK).map((name) => ({ name, value: this.#parts.get(name)! }))
    }
  }

  /** Holds nothing per component: the log stays for the next one to open. */
  async close(): Promise<void> {}

  #notify(): void {
    if (this.#held) return
    const head = this.#values.length
    // After the appender's own continuation, as a notification from a server would arrive.
    queueMicrotask(() => {
      for (const listener of this.#listeners) listener(head)
    })
  }
}
