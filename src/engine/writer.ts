/**
 * The write path: commands queue here and are written in batches (group commit). While one batch
 * is being appended, the commands that arrive wait and form the next batch; each command is
 * decided in arrival order against the state that the commands before it left.
 *
 * validate (by the caller) → decide → stamp → evolve (a draft of the state) → append (one atomic
 * batch) → the draft becomes the state → publish → settle the callers → tell the snapshotter
 *
 * The draft is kept only once the append succeeded: a failed or lost append leaves the state as it was.
 *
 * Other writers' records enter through the same queue (catch up → evolve → publish), so that the
 * state, the stream and the snapshotter see every record once, in seq order. A batch that loses
 * the race for the head catches up and is decided again against the new state.
 */
import type { Command } from '../domain/commands.js'
import { decide } from '../domain/decide.js'
import { AppendConflictError, ChangeSourcesError, CorruptLogError, ReadFailedError, WriteFailedError, WriteOutcomeUnknownError, WriteRefusedError } from '../errors.js'
import type { ChangeRecord } from '../domain/events.js'
import { applyRecord, produceState } from '../domain/evolve.js'
import type { LogStore, StoredEntry } from '../stores/log-store.js'
import type { ChangeSourcesState } from '../domain/projection.js'
import { checkedRecord, encodeRecord, stampEvent } from '../log/record-codec.js'

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

/** A batch decided against a state: the state after it, its records, and each command's outcome. */
interface DecidedBatch {
  readonly working: ChangeSourcesState
  readonly appended: readonly ChangeRecord[]
  readonly settled: ReadonlyArray<readonly ChangeRecord[] | ChangeSourcesError>
}

/** A request to fold the records up to the store's head: `head` when known, else asked of the store. */
interface CatchUp {
  readonly catchUp: true
  readonly head: number | undefined
  readonly resolve: (head: number) => void
  readonly reject: (error: unknown) => void
}

// Bounds the latency of the commands at the head of a long queue; a single command (a master's
// deactivation) may still append any number of records in one batch.
const MAX_COMMANDS_PER_BATCH = 4096
// A batch that loses the race this many times in a row fails; each loss means others progressed.
const MAX_ATTEMPTS = 64
// After the second loss in a row a batch waits a random while before it tries again, up to this
// long: writers that retry at once keep meeting at the same head.
const MAX_BACKOFF_MS = 20
// Losses in a row before a batch backs off, where the store offers no turn: the first retries go at
// once, with the missed records the store brought back, when a retry is least likely to be stale.
const BACK_OFF_FROM = 8
// Losses in a row before a batch takes a turn, where the store offers one.
const TURN_AFTER = 16

export class Writer {
  #state: ChangeSourcesState
  readonly #store: LogStore
  readonly #publish: (records: readonly ChangeRecord[]) => void
  readonly #now: () => number
  readonly #maxClockSkewMs: number
  readonly #committed: ((state: ChangeSourcesState, appended: readonly ChangeRecord[]) => void) | undefined
  #queue: Array<Pending | CatchUp> = []
  #draining: Promise<void> | undefined

  constructor(options: {
    state: ChangeSourcesState
    store: LogStore
    publish: (records: readonly ChangeRecord[]) => void
    now: () => number
    /** How far apart the clocks of the log's writers may be: others' leases are judged with this margin (leases.ts). */
    maxClockSkewMs?: number
    /** Told of each stored batch, ours or others', once its callers are settled (the snapshotter). */
    committed?: (state: ChangeSourcesState, appended: readonly ChangeRecord[]) => void
  }) {
    this.#state = options.state
    this.#store = options.store
    this.#publish = options.publish
    this.#now = options.now
    this.#maxClockSkewMs = options.maxClockSkewMs ?? 0
    this.#committed = options.committed
  }

  /** The state after the last committed batch. */
  get state(): ChangeSourcesState {
    return this.#state
  }

  submit(command: Command): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => this.#enqueue({ command, resolve, reject }))
  }

  /**
   * Folds the records up to `head`, or up to the store's head as asked now, after the commands
   * queued before; resolves with the seq the state then has.
   */
  catchUp(head?: number): Promise<number> {
    return new Promise<number>((resolve, reject) => this.#enqueue({ catchUp: true, head, resolve, reject }))
  }

  /** The store learnt of a head: when it is past the state, a catch-up is queued (one at a time). */
  noteHead(head: number): void {
    if (head <= this.#state.seq) return
    if (this.#queue.some((item) => 'catchUp' in item && (item.head === undefined || item.head >= head))) return
    this.catchUp(head).catch(() => {
      // A failed background catch-up leaves the state where it was; the next one tries again.
    })
  }

  /** Resolves once every command submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining
  }

  #enqueue(item: Pending | CatchUp): void {
    this.#queue.push(item)
    this.#draining ??= this.#drain()
  }

  async #drain(): Promise<void> {
    // Let the commands issued in the current tick join the first batch.
    await Promise.resolve()
    try {
      while (this.#queue.length > 0) {
        const first = this.#queue[0]!
        if ('catchUp' in first) {
          this.#queue.shift()
          try {
            first.resolve(await this.#catchUpTo(first.head ?? (await this.#storeHead())))
          } catch (error) {
            first.reject(error)
          }
          continue
        }
        const end = this.#queue.findIndex((item) => 'catchUp' in item)
        const batch = this.#queue.splice(0, Math.min(end === -1 ? this.#queue.length : end, MAX_COMMANDS_PER_BATCH)) as Pending[]
        try {
          await this.#writeBatch(batch)
        } catch (cause) {
          // Whatever went wrong before the batch was settled (a clock that fails, a bug, a damaged
          // record of another writer), its commands must not wait forever.
          const typed = cause instanceof AppendConflictError || cause instanceof CorruptLogError || cause instanceof ReadFailedError
          const failure = typed ? cause : new WriteFailedError({ cause })
          for (const pending of batch) pending.reject(failure)
        }
      }
    } finally {
      this.#draining = undefined
    }
  }

  async #storeHead(): Promise<number> {
    try {
      return await this.#store.head()
    } catch (cause) {
      throw new ReadFailedError({ cause })
    }
  }

  async #writeBatch(batch: readonly Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // A batch that keeps losing takes a turn where the store offers one: the others' appends wait
      // while it catches up and appends, so that a writer whose rivals never pause cannot starve.
      const turn = attempt > TURN_AFTER && this.#store.takeTurn !== undefined ? await this.#store.takeTurn() : undefined
      let lostTo: number | undefined
      let missed: readonly StoredEntry[] | undefined
      let decided: DecidedBatch
      let base: ChangeSourcesState
      try {
        if (turn !== undefined) await this.#catchUpTo(await turn.head())
        base = this.#state
        decided = this.#decideBatch(base, batch)
        if (decided.appended.length > 0) {
          let outcome
          try {
            outcome = await (turn ?? this.#store).append(
              decided.appended.map((record) => ({ seq: record.seq, value: encodeRecord(record) })),
              base.seq,
            )
          } catch (cause) {
            // Nothing of this batch is in the log, so none of it may be seen: the state stays at `base`
            // and every command of the batch fails, including those whose answer leaned on another's.
            const failure = cause instanceof WriteRefusedError || cause instanceof WriteOutcomeUnknownError ? cause : new WriteFailedError({ cause })
            for (const pending of batch) pending.reject(failure)
            return
          }
          if (!outcome.appended) {
            lostTo = outcome.head
            missed = outcome.missed
          }
        } else if (this.#store.writers === 'many' && turn === undefined) {
          // A refusal or a no-op must hold against the log, not against a state that others moved on.
          const head = await this.#storeHead()
          if (head > base.seq) lostTo = head
        }
      } finally {
        await turn?.release()
      }
      if (lostTo !== undefined) {
        if (lostTo <= base.seq) throw new CorruptLogError(base.seq, `the store's head went back to seq ${lostTo}`)
        if (this.#store.takeTurn === undefined && attempt >= BACK_OFF_FROM && attempt < MAX_ATTEMPTS) {
          // Wait, then catch up to the head as it is after the wait: a state caught up before it
          // would be stale again by the time the batch is tried.
          await backOff(attempt)
          lostTo = Math.max(lostTo, await this.#storeHead())
          missed = undefined
        }
        await this.#catchUpTo(lostTo, missed)
        if (attempt === MAX_ATTEMPTS) throw new AppendConflictError(base.seq, lostTo)
        continue
      }
      if (decided.appended.length > 0) this.#state = decided.working
      this.#settle(batch, decided.settled, decided.working, decided.appended)
      return
    }
  }

  /** One recipe for the whole batch: each command is decided against the draft that the commands before it left; `base` stays. */
  #decideBatch(base: ChangeSourcesState, batch: readonly Pending[]): DecidedBatch {
    const timestamp = this.#now()
    const context = { now: timestamp, maxClockSkewMs: this.#maxClockSkewMs }
    const settled: Array<readonly ChangeRecord[] | ChangeSourcesError> = []
    const appended: ChangeRecord[] = []
    const working = produceState(base, (draft) => {
      for (const pending of batch) {
        let decision
        try {
          decision = decide(draft, pending.command, context)
        } catch (cause) {
          // decide is total over validated commands; reaching here is a bug, and it must not take the batch with it.
          settled.push(cause instanceof ChangeSourcesError ? cause : new WriteFailedError({ cause }))
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
    return { working, appended, settled }
  }

  #settle(batch: readonly Pending[], settled: ReadonlyArray<readonly ChangeRecord[] | ChangeSourcesError>, working: ChangeSourcesState, appended: readonly ChangeRecord[]): void {
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

  /**
   * Folds the records after the state up to `head`, each checked as open checks it (seq, version,
   * hash chain, rules), and publishes them: others' records are records like ours.
   */
  async #catchUpTo(head: number, missed?: readonly StoredEntry[]): Promise<number> {
    if (head <= this.#state.seq) return this.#state.seq
    try {
      // The entries a lost append brought back, when they follow the state: no read needed for them.
      if (missed !== undefined && missed.length > 0 && missed[0]!.seq === this.#state.seq + 1) this.#foldIn(missed)
      if (head <= this.#state.seq) return this.#state.seq
      for await (const chunk of this.#store.read({ from: this.#state.seq + 1, to: head })) this.#foldIn(chunk)
    } catch (error) {
      throw error instanceof ChangeSourcesError ? error : new ReadFailedError({ cause: error })
    }
    if (this.#state.seq < head) throw new CorruptLogError(this.#state.seq + 1, `the record is missing (the store's head is seq ${head})`)
    return this.#state.seq
  }

  /** Folds in stored entries that follow the state, each checked, and publishes them. */
  #foldIn(chunk: readonly StoredEntry[]): void {
    const records: ChangeRecord[] = []
    const next = produceState(this.#state, (draft) => {
      for (const entry of chunk) {
        const record = checkedRecord(draft, entry)
        applyRecord(draft, record)
        records.push(record)
      }
    })
    if (records.length === 0) return
    this.#state = next
    try {
      this.#publish(records)
    } finally {
      this.#committed?.(next, records)
    }
  }
}

/** A random wait that grows with the losses in a row (full jitter), so that racing writers spread out. */
function backOff(attempt: number): Promise<void> {
  const ceiling = Math.min(MAX_BACKOFF_MS, 2 ** (attempt - BACK_OFF_FROM))
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling))
}
