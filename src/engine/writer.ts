/**
 * The write path: commands queue here and are written in batches (group commit). While one batch
 * is being appended, the commands that arrive wait and form the next batch; each command is
 * decided in arrival order against the state that the commands before it left.
 *
 * validate (by the caller) → decide → stamp → append (one atomic batch) → evolve → publish → settle
 */
import type { Command } from '../domain/commands.js'
import { decide } from '../domain/decide.js'
import { ChangeSourcesError, WriteFailedError, WriteRefusedError } from '../errors.js'
import type { ChangeRecord } from '../domain/events.js'
import { applyRecord, produceState } from '../domain/evolve.js'
import type { LogStore } from '../stores/log-store.js'
import type { ChangeSourcesState } from '../domain/projection.js'
import { encodeRecord, stampEvent } from '../log/record-codec.js'

/** What a command did: the records it appended (possibly none) and the state after its batch, which includes them. */
export interface Outcome {
  readonly records: readonly ChangeRecord[]
  readonly state: ChangeSourcesState
}

interface Pending {
  readonly command: Command
  readonly resolve: (outcome: Outcome) => void
  readonly reject: (error: unknown) => void
}

// Bounds the latency of the commands at the head of a long queue; a single command (a master's
// deactivation) may still append any number of records in one batch.
const MAX_COMMANDS_PER_BATCH = 4096

export class Writer {
  #state: ChangeSourcesState
  readonly #store: LogStore
  readonly #publish: (records: readonly ChangeRecord[]) => void
  readonly #now: () => number
  readonly #committed: ((state: ChangeSourcesState, appended: readonly ChangeRecord[]) => void) | undefined
  #queue: Pending[] = []
  #draining: Promise<void> | undefined

  constructor(options: {
    state: ChangeSourcesState
    store: LogStore
    publish: (records: readonly ChangeRecord[]) => void
    now: () => number
    /** Told of each stored batch once its callers are settled (the snapshotter, snapshot.ts). */
    committed?: (state: ChangeSourcesState, appended: readonly ChangeRecord[]) => void
  }) {
    this.#state = options.state
    this.#store = options.store
    this.#publish = options.publish
    this.#now = options.now
    this.#committed = options.committed
  }

  /** The state after the last committed batch. */
  get state(): ChangeSourcesState {
    return this.#state
  }

  submit(command: Command): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ command, resolve, reject })
      this.#draining ??= this.#drain()
    })
  }

  /** Resolves once every command submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining
  }

  async #drain(): Promise<void> {
    // Let the commands issued in the current tick join the first batch.
    await Promise.resolve()
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_COMMANDS_PER_BATCH)
        try {
          await this.#writeBatch(batch)
        } catch (cause) {
          // Whatever went wrong before the batch was settled (a clock that fails, a bug), its
          // commands must not wait forever; those already settled are not changed by this.
          const failure = new WriteFailedError({ cause })
          for (const pending of batch) pending.reject(failure)
        }
      }
    } finally {
      this.#draining = undefined
    }
  }

  async #writeBatch(batch: readonly Pending[]): Promise<void> {
    const base = this.#state
    const timestamp = this.#now()
    const settled: Array<readonly ChangeRecord[] | ChangeSourcesError> = []
    const appended: ChangeRecord[] = []
    // One recipe for the whole batch: each command is decided against the draft that the commands
    // before it left, and `base` stays as it was, for a failed append to fall back to.
    const working = produceState(base, (draft) => {
      for (const pending of batch) {
        let decision
        try {
          decision = decide(draft, pending.command)
        } catch (error) {
          // decide is total over validated commands; reaching here is a bug, and it must not take the batch with it.
          settled.push(error as ChangeSourcesError)
          continue
        }
        if (decision instanceof ChangeSourcesError) {
          settled.push(decision)
          continue
        }
        const records: ChangeRecord[] = []
        let { seq, hash } = draft
        for (const event of decision) {
          const record = stampEvent(event, ++seq, timestamp, hash)
          hash = record.hash
          records.push(record)
          applyRecord(draft, record)
        }
        appended.push(...records)
        settled.push(records)
      }
    })

    if (appended.length > 0) {
      try {
        await this.#store.append(
          appended.map((record) => ({ seq: record.seq, value: encodeRecord(record) })),
          base.seq,
        )
      } catch (cause) {
        // Nothing of this batch is in the log, so none of it may be seen: the state stays at `base`
        // and every command of the batch fails, including those whose answer leaned on another's.
        const failure = cause instanceof WriteRefusedError ? cause : new WriteFailedError({ cause })
        for (const pending of batch) pending.reject(failure)
        return
      }
      this.#state = working
    }
    try {
      if (appended.length > 0) this.#publish(appended)
    } finally {
      batch.forEach((pending, index) => {
        const outcome = settled[index]!
        if (outcome instanceof Error) pending.reject(outcome)
        else pending.resolve({ records: outcome, state: working })
      })
      if (appended.length > 0) this.#committed?.(working, appended)
    }
  }
}
