/**
 * A virtual clock for tests: an RxJS SchedulerLike whose time moves only when the test calls
 * advance(), so leases run out and sweeps run without waiting.
 */
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs'

interface Pending {
  readonly action: ManualAction<never>
  readonly due: number
  /** Ties at one due time run in the order they were scheduled. */
  readonly order: number
  readonly state: unknown
}

class ManualAction<T> extends Subscription implements SchedulerAction<T> {
  constructor(
    private readonly scheduler: ManualScheduler,
    readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super()
  }

  /** As RxJS's actions do: the same action runs again after `delay`, replacing its pending run. */
  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this
    this.scheduler.enqueue(this as ManualAction<never>, delay, state)
    return this
  }

  override unsubscribe(): void {
    this.scheduler.dequeue(this as ManualAction<never>)
    super.unsubscribe()
  }
}

export class ManualScheduler implements SchedulerLike {
  #now: number
  #order = 0
  #pending: Pending[] = []

  constructor(start = 1_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const action = new ManualAction<T>(this, work)
    return action.schedule(state, delay)
  }

  /** How many runs are waiting. */
  get pending(): number {
    return this.#pending.length
  }

  /**
   * Moves time forward by `ms`, running each piece of work that falls due on the way at its due time,
   * in time order. Work may be asynchronous (the sweep writes): after each run the event loop turns
   * a few times, so that what it started can finish and schedule again before time moves on.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative time, got ${ms}`)
    const target = this.#now + ms
    for (;;) {
      const next = this.#earliest()
      if (next === undefined || next.due > target) break
      this.#pending = this.#pending.filter((pending) => pending !== next)
      this.#now = Math.max(this.#now, next.due)
      next.action.work.call(next.action, next.state as never)
      await settle()
    }
    this.#now = target
  }

  /** @internal ManualAction's: one pending run per action, as RxJS's own actions have. */
  enqueue(action: ManualAction<never>, delay: number, state: unknown): void {
    this.dequeue(action)
    this.#pending.push({ action, due: this.#now + Math.max(0, delay), order: this.#order++, state })
  }

  /** @internal */
  dequeue(action: ManualAction<never>): void {
    this.#pending = this.#pending.filter((pending) => pending.action !== action)
  }

  #earliest(): Pending | undefined {
    let earliest: Pending | undefined
    for (const pending of this.#pending) {
      if (earliest === undefined || pending.due < earliest.due || (pending.due === earliest.due && pending.order < earliest.order)) earliest = pending
    }
    return earliest
  }
}

/** Lets promises and immediates that a run started go on (memory stores settle within a few turns). */
export async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve))
}
