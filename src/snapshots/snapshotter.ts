/**
 * The snapshotter: writes the snapshots of snapshot.ts in the background, each as the state after
 * the batch that made it due, rewriting only the pages changed since the last one (PageChanges).
 */
import type { ChangeRecord } from '../domain/events.js'
import type { LogStore } from '../stores/log-store.js'
import { PageChanges } from './page-changes.js'
import type { ChangeSourcesState } from '../domain/projection.js'
import { encodeSnapshot, type StoredSnapshot } from './snapshot.js'

// Encoding works at most this long before it lets the event loop run writes and reads.
const SLICE_MS = 4

/**
 * Writes a snapshot every `every` records, in the background: the writer tells it of each
 * committed batch, and when a batch crosses a multiple of `every` it encodes the state after that
 * batch in slices between other work and stores it with one atomic write of its own. A write is
 * never slowed by more than a slice, and never fails because of a snapshot: one that cannot be
 * encoded or stored is simply missing, and the next one rewrites every page.
 */
export class Snapshotter {
  readonly #store: Pick<LogStore, 'writeSnapshot'>
  readonly #every: number
  /** Whether the stored parts are known to be this snapshotter's: only with a single writer. */
  readonly #incremental: boolean
  /** What is stored of the last snapshot; undefined when no trusted snapshot is stored. */
  #stored: StoredSnapshot | undefined
  /** What changed since the stored snapshot (or since the one being written). */
  #changes = new PageChanges()
  /** Stored parts that no snapshot uses (a format-1 snapshot's, pages no head names), for the next snapshot to delete. */
  #obsolete: string[]
  #writing: Promise<void> | undefined
  /** The newest snapshot that came due while another was being written, with what changed before it. */
  #due: Due | undefined

  /**
   * `every`: records between snapshots (0: never). `stored`: what open loaded of the stored
   * snapshot, and what the records folded after it changed; without one, the first snapshot
   * writes every page (and so overwrites whatever stale pages are stored).
   * `obsoleteParts`: stored parts that no snapshot uses, to delete with the first snapshot.
   */
  constructor(
    store: Pick<LogStore, 'writeSnapshot'>,
    every: number,
    stored?: { snapshot: StoredSnapshot; changes: PageChanges },
    obsoleteParts: readonly string[] = [],
    options: { incremental: boolean } = { incremental: true },
  ) {
    this.#store = store
    this.#every = every
    this.#incremental = options.incremental
    // With other writers snapshotting the same parts, what is stored may be theirs: every page is rewritten.
    this.#stored = options.incremental ? stored?.snapshot : undefined
    if (stored !== undefined) this.#changes = stored.changes
    this.#obsolete = [...obsoleteParts]
  }

  /** The writer's report of a stored batch: `appended` (non-empty, in seq order), leaving `state`. */
  committed(state: ChangeSourcesState, appended: readonly ChangeRecord[]): void {
    if (this.#every === 0) return
    for (const record of appended) this.#changes.record(record)
    const before = appended[0]!.seq - 1
    if (Math.floor(before / this.#every) === Math.floor(state.seq / this.#every)) return
    // The changes up to this state belong to its snapshot, taken now: those after it must be kept
    // for the next one, or a page would be stored as of an older state.
    let changes = this.#changes
    this.#changes = new PageChanges()
    if (this.#due !== undefined) changes = this.#due.changes.followedBy(changes)
    const due: Due = { state, timestamp: appended[appended.length - 1]!.timestamp, changes }
    if (this.#writing !== undefined) this.#due = due
    else this.#writing = this.#write(due)
  }

  /** Resolves once no snapshot is being written (close waits for it, so that one that is due is kept). */
  async settled(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing
  }

  async #write({ state, timestamp, changes }: Due): Promise<void> {
    // Out of the writer's way: the batch that made this snapshot due settles its callers first.
    await new Promise((resolve) => setImmediate(resolve))
    try {
      const { parts, stored } = await encodeSnapshot(state, timestamp, this.#stored, changes.dirtyIn(state), SLICE_MS)
      await this.#store.writeSnapshot([...this.#obsolete.map((name) => ({ name, value: null })), ...parts])
      this.#stored = this.#incremental ? stored : undefined
      this.#obsolete = []
    } catch {
      // An optimisation must never fail a write: the next snapshot rewrites every page.
      this.#stored = undefined
    }
    const next = this.#due
    this.#due = undefined
    this.#writing = next === undefined ? undefined : this.#write(next)
  }
}

interface Due {
  readonly state: ChangeSourcesState
  readonly timestamp: number
  readonly changes: PageChanges
}
