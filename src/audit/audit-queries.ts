/**
 * The audit questions over a log store: read, at, history, verify. One implementation for the two
 * ways in: a running component (ChangeSources, which passes its live state) and the offline reader
 * (AuditLog, which has none and restores one when a question needs it).
 */
import type { ChangeRecord } from '../domain/events.js'
import { ChangeSourcesError, ClosedError, InvalidArgumentError, ReadFailedError } from '../errors.js'
import { checkHistoryQuery, collectHistory, historyEnd, type History, type HistoryQuery } from './history.js'
import type { LogStore } from '../stores/log-store.js'
import { readRecords } from '../log/log-reader.js'
import { checkTarget, PointInTime, type PointInTimeTarget } from './point-in-time.js'
import type { ChangeSourcesState } from '../domain/projection.js'
import { restoreState } from '../engine/restore.js'
import { readOwn } from '../domain/validate.js'
import { verifyLog, type VerifyReport } from './verify.js'

/** A range of seqs, both ends inclusive: `from` defaults to 1, `to` to the head. */
export interface ReadRange {
  readonly from?: number
  readonly to?: number
}

export class AuditQueries {
  readonly #store: LogStore
  readonly #headSeq: () => number
  readonly #liveState: (() => ChangeSourcesState) | undefined
  readonly #onProgress: ((done: number, total: number) => void) | undefined
  /** The reads under way (a pull of read() counts while it waits for its record). */
  readonly #inFlight = new Set<Promise<unknown>>()
  #closed = false

  /** `head`: the last seq the queries answer for (the component's state, or the head an audit opened at). */
  constructor(store: LogStore, head: () => number, liveState?: () => ChangeSourcesState, onProgress?: (done: number, total: number) => void) {
    this.#store = store
    this.#headSeq = head
    this.#liveState = liveState
    this.#onProgress = onProgress
  }

  #head(): number {
    return this.#headSeq()
  }

  range(range: unknown): { from: number; to: number } {
    const head = this.#head()
    if (range === undefined) return { from: 1, to: head }
    if (typeof range !== 'object' || range === null) throw new InvalidArgumentError('range', 'an object or undefined', range)
    const { from, to } = readOwn(range, 'range', ['from', 'to'])
    const seq = (argument: string, value: unknown, otherwise: number): number => {
      if (value === undefined) return otherwise
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
        throw new InvalidArgumentError(argument, 'a positive safe integer', value)
      }
      return value
    }
    return { from: seq('range.from', from, 1), to: Math.min(seq('range.to', to, head), head) }
  }

  read(range?: ReadRange): AsyncIterable<ChangeRecord> {
    if (this.#closed) throw new ClosedError('read')
    return this.#pulledWhileOpen(readRecords(this.#store, this.range(range)))
  }

  /** Resolves once every read started so far has finished, answered or failed. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight])
  }

  /**
   * Refuses reads from now on (ClosedError) and resolves once those under way have finished: the
   * owner of the store calls it before closing the store, so that no read is cut off halfway.
   */
  close(): Promise<void> {
    this.#closed = true
    return this.settled()
  }

  async at(target: PointInTimeTarget): Promise<PointInTime> {
    if (this.#closed) throw new ClosedError('at')
    const head = this.#head()
    const checked = checkTarget(target, head)
    return this.#tracked('at', async () => {
      const live = this.#liveState?.()
      if (live !== undefined && 'seq' in checked && checked.seq === live.seq) return new PointInTime(live, await this.#timestampAt(live.seq))
      const restored = await restoreState(this.#store, 'seq' in checked ? checked : { time: checked.time }, { onRecord: this.#progress(head) })
      return new PointInTime(restored.state, restored.timestamp)
    })
  }

  async history(query?: HistoryQuery): Promise<History> {
    if (this.#closed) throw new ClosedError('history')
    const to = historyEnd(query, this.#head())
    return this.#tracked('history', async () => {
      const live = this.#liveState?.()
      const state = live !== undefined && live.seq === to ? live : (await restoreState(this.#store, { seq: to })).state
      const checked = checkHistoryQuery(query, state)
      return collectHistory(readRecords(this.#store, { from: 1, to }), checked, state)
    })
  }

  verify(): Promise<VerifyReport> {
    return this.#tracked('verify', () => verifyLog(this.#store, this.#onProgress))
  }

  /** Runs `read` as a read in flight (see close), rejecting only with our errors; refused once closed. */
  #tracked<T>(operation: string, read: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError(operation))
    const running = typedErrors(read)
    this.#inFlight.add(running)
    const forget = () => this.#inFlight.delete(running)
    running.then(forget, forget)
    return running
  }

  /** `records`, each pull a read in flight; a pull after close() rejects with ClosedError. */
  async *#pulledWhileOpen(records: AsyncIterable<ChangeRecord>): AsyncIterable<ChangeRecord> {
    const iterator = records[Symbol.asyncIterator]()
    try {
      while (true) {
        const next = await this.#tracked('read', () => iterator.next())
        if (next.done === true) return
        yield next.value
      }
    } finally {
      await iterator.return?.()
    }
  }

  #progress(total: number): ((record: ChangeRecord) => void) | undefined {
    const onProgress = this.#onProgress
    if (onProgress === undefined) return undefined
    return (record) => {
      if (record.seq % 1000 === 0 || record.seq === total) onProgress(record.seq, total)
    }
  }

  async #timestampAt(seq: number): Promise<number | undefined> {
    if (seq === 0) return undefined
    for await (const record of readRecords(this.#store, { from: seq, to: seq })) return record.timestamp
    return undefined
  }
}

/** Runs an audit read so that it rejects only with our errors: a store's own error becomes a ReadFailedError with it as the cause. */
async function typedErrors<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    throw error instanceof ChangeSourcesError ? error : new ReadFailedError({ cause: error })
  }
}
