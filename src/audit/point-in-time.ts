/**
 * Point in time: a read-only view of the projection as it was after a given seq, or at a given
 * time, answering the live component's queries with the same filters and the same results (the
 * same projection queries over a state folded by the same reducer, see restore.ts).
 */
import { InvalidArgumentError } from '../errors.js'
import { getChangeSource, getChangeSources, type ChangeSource, type ChangeSourcesFilter, type ChangeSourcesState } from '../domain/projection.js'
import { checkFilter, checkId, readOwn } from '../domain/validate.js'

/** Where to look: after seq `seq` (0 is the empty log), or at `time` (a Date or milliseconds since the epoch). */
export type PointInTimeTarget = { readonly seq: number } | { readonly time: Date | number }

export class PointInTime {
  readonly #state: ChangeSourcesState
  /** The seq of the last record in this view (0: none). */
  readonly seq: number
  /** The hash of that record (GENESIS_HASH for none): the chain's head as it was then. */
  readonly hash: string
  /** When that record was appended, in milliseconds since the epoch; undefined for none. */
  readonly timestamp: number | undefined

  constructor(state: ChangeSourcesState, timestamp: number | undefined) {
    this.#state = state
    this.seq = state.seq
    this.hash = state.hash
    this.timestamp = timestamp
  }

  async getChangeSource(changesourceid: number): Promise<ChangeSource | null> {
    return getChangeSource(this.#state, checkId('changesourceid', changesourceid))
  }

  async getChangeSources(filter?: ChangeSourcesFilter): Promise<ChangeSource[]> {
    return getChangeSources(this.#state, checkFilter(filter))
  }
}

/** Checks an `at()` argument against a log that ends at `head`; returns seq or milliseconds. */
export function checkTarget(value: unknown, head: number): { seq: number } | { time: number } {
  const expectation = 'an object with a seq (0 … head) or a time (a Date or milliseconds)'
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('point', expectation, value)
  const { seq, time } = readOwn(value, 'point', ['seq', 'time'])
  if ((seq === undefined) === (time === undefined)) throw new InvalidArgumentError('point', expectation, value)
  if (seq !== undefined) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || seq > head) {
      throw new InvalidArgumentError('point.seq', `an integer from 0 to the log's head (${head})`, seq)
    }
    return { seq }
  }
  const milliseconds = time instanceof Date ? time.getTime() : time
  if (typeof milliseconds !== 'number' || !Number.isFinite(milliseconds)) {
    throw new InvalidArgumentError('point.time', 'a valid Date or a finite number of milliseconds', time)
  }
  return { time: milliseconds }
}
