/**
 * A master's view of its own claims: the live claims it holds, emitted whenever that set changes.
 * A claim leaves the set as soon as this process knows it is lost: a record ends it, or its lease
 * runs out by the clock (before any sweep records the expiry).
 */
import { Observable, type SchedulerLike, type Subscription } from 'rxjs'
import type { ChangeSourcesState } from '../domain/projection.js'
import { claimOf, claimsOfMaster, earliestExpiry, lapsedForHolder, type Claim } from '../domain/leases.js'

export interface HeldClaimsSources {
  /** The state as it is now. */
  readonly state: () => ChangeSourcesState
  /** Emits after the state moved (ours or others' records); completes when the component closes. */
  readonly moved: Observable<unknown>
  readonly now: () => number
  readonly scheduler: SchedulerLike
}

export function heldClaims(masterid: number, sources: HeldClaimsSources): Observable<readonly Claim[]> {
  return new Observable<readonly Claim[]>((subscriber) => {
    let last: string | undefined
    let lapse: Subscription | undefined
    let queued = false
    const evaluate = (): void => {
      queued = false
      if (subscriber.closed) return
      try {
        emitAndWake()
      } catch (error) {
        // A clock that fails: the subscriber hears of it, rather than the process as an uncaught error.
        subscriber.error(error)
      }
    }
    const emitAndWake = (): void => {
      const state = sources.state()
      const now = sources.now()
      const live = claimsOfMaster(state, masterid)
        .filter((claim) => !lapsedForHolder(state, claim, now))
        .map((claim) => claimOf(state, claim))
      const key = live.map((claim) => `${claim.changesourceid}:${claim.token}`).join(',')
      if (key !== last) {
        last = key
        subscriber.next(Object.freeze(live))
      }
      // A renewal moves the deadline: the wake-up follows the newest state.
      lapse?.unsubscribe()
      const next = earliestExpiry(state, live)
      lapse = next === null ? undefined : sources.scheduler.schedule(evaluate, Math.max(0, next - now))
    }
    // One evaluation per batch of records, once the batch is in the state.
    const moved = sources.moved.subscribe({
      next: () => {
        if (queued) return
        queued = true
        queueMicrotask(evaluate)
      },
      complete: () => subscriber.complete(),
    })
    evaluate()
    return () => {
      moved.unsubscribe()
      lapse?.unsubscribe()
    }
  })
}
