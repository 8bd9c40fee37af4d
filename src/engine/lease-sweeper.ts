/**
 * The sweep: every `intervalMs` by the scheduler, the expiry of each lease that ran out is recorded
 * (an ExpireLeases command), so that a master that died without releasing loses its claims. It is
 * scheduled only while the state holds leases (a log without leases has no timer, and a process
 * that forgot close() is not kept alive by it), and checks the state first, so a sweep with nothing
 * to expire costs no write.
 */
import type { Observable, SchedulerLike, Subscription } from 'rxjs'
import type { ChangeSourcesState } from '../domain/projection.js'
import { expirable, leasedClaims } from '../domain/leases.js'

export class LeaseSweeper {
  #next: Subscription | undefined
  #sweeping = false
  #stopped = false
  readonly #moved: Subscription | undefined

  constructor(
    private readonly options: {
      readonly intervalMs: number
      readonly scheduler: SchedulerLike
      readonly now: () => number
      readonly maxClockSkewMs: number
      readonly state: () => ChangeSourcesState
      /** Emits after the state moved: leases may have come. */
      readonly moved: Observable<unknown>
      /** Records the expiries; its failure (the database unreachable) is retried at the next sweep. */
      readonly expire: () => Promise<unknown>
    },
  ) {
    if (options.intervalMs === 0) return
    this.#moved = options.moved.subscribe(() => this.#scheduleIfLeased())
    this.#scheduleIfLeased()
  }

  /** True when a lease in `state` has run out for every writer by now. */
  static due(state: ChangeSourcesState, now: number, maxClockSkewMs: number): boolean {
    return leasedClaims(state).some((claim) => expirable(state, claim, { now, maxClockSkewMs }))
  }

  stop(): void {
    this.#stopped = true
    this.#moved?.unsubscribe()
    this.#next?.unsubscribe()
    this.#next = undefined
  }

  #scheduleIfLeased(): void {
    if (this.#stopped || this.#sweeping || this.#next !== undefined || this.options.state().indexes.leaseHolders.size === 0) return
    this.#next = this.options.scheduler.schedule(() => {
      this.#next = undefined
      void this.#sweep()
    }, this.options.intervalMs)
  }

  async #sweep(): Promise<void> {
    if (this.#stopped) return
    const { state, now, maxClockSkewMs, expire } = this.options
    this.#sweeping = true
    try {
      if (LeaseSweeper.due(state(), now(), maxClockSkewMs)) await expire()
    } catch {
      // Nothing was recorded; the next sweep tries again.
    } finally {
      this.#sweeping = false
      this.#scheduleIfLeased()
    }
  }
}
