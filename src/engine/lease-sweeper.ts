/**
 * The sweep: every `intervalMs` by the scheduler, the expiry of each lease that ran out is recorded
 * (an ExpireLeases command), so that a master that died without releasing loses its claims. The
 * state is checked first, so a sweep with nothing to expire costs no write.
 */
import type { SchedulerLike, Subscription } from 'rxjs'
import type { ChangeSourcesState } from '../domain/projection.js'
import { expirable, leasedClaims } from '../domain/leases.js'

export class LeaseSweeper {
  #next: Subscription | undefined
  #stopped = false

  constructor(
    private readonly options: {
      readonly intervalMs: number
      readonly scheduler: SchedulerLike
      readonly now: () => number
      readonly maxClockSkewMs: number
      readonly state: () => ChangeSourcesState
      /** Records the expiries; its failure (the database unreachable) is retried at the next sweep. */
      readonly expire: () => Promise<unknown>
    },
  ) {
    if (options.intervalMs > 0) this.#schedule()
  }

  /** True when a lease in `state` has run out for every writer by now. */
  static due(state: ChangeSourcesState, now: number, maxClockSkewMs: number): boolean {
    return leasedClaims(state).some((claim) => expirable(state, claim, { now, maxClockSkewMs }))
  }

  stop(): void {
    this.#stopped = true
    this.#next?.unsubscribe()
  }

  #schedule(): void {
    this.#next = this.options.scheduler.schedule(() => void this.#sweep(), this.options.intervalMs)
  }

  async #sweep(): Promise<void> {
    if (this.#stopped) return
    const { state, now, maxClockSkewMs, expire } = this.options
    try {
      if (LeaseSweeper.due(state(), now(), maxClockSkewMs)) await expire()
    } catch {
      // Nothing was recorded; the next sweep tries again.
    } finally {
      if (!this.#stopped) this.#schedule()
    }
  }
}
