/**
 * Publication: the live stream of records, and catch-up subscriptions that read the log first.
 */
import { Observable, Subject } from 'rxjs'
import type { ChangeRecord } from '../domain/events.js'

export class ChangeStream {
  readonly #live = new Subject<ChangeRecord>()
  readonly #catchUps = new Set<Promise<void>>()
  /** Hot: each subscriber sees the records published after it subscribed. */
  readonly changes$: Observable<ChangeRecord> = this.#live.asObservable()

  /** Called with each committed batch, in seq order, in the same tick as the projection moves to it. */
  publish(records: readonly ChangeRecord[]): void {
    for (const record of records) this.#live.next(record)
  }

  /** Completes every stream; resolves once no catch-up subscription is still reading the log. */
  async complete(): Promise<void> {
    this.#live.complete()
    while (this.#catchUps.size > 0) await Promise.allSettled([...this.#catchUps])
  }

  /**
   * The records from seq `from` on, then the live ones, with no gap and no duplicate.
   *
   * Why it holds: the live subscription and the reading of `head()` happen in one synchronous step.
   * Every record up to that head was published before it and is in the log; every later one is
   * published after it, and is buffered until the log has been read up to the head.
   */
  watch(
    from: number,
    head: () => number,
    readRecords: (from: number, to: number) => AsyncIterable<readonly ChangeRecord[]>,
  ): Observable<ChangeRecord> {
    return new Observable<ChangeRecord>((subscriber) => {
      let caughtUp = false
      let completedWhileCatchingUp = false
      const buffered: ChangeRecord[] = []
      const live = this.#live.subscribe({
        next: (record) => {
          if (record.seq < from) return
          if (caughtUp) subscriber.next(record)
          else buffered.push(record)
        },
        complete: () => {
          if (caughtUp) subscriber.complete()
          else completedWhileCatchingUp = true
        },
      })
      const catchUpTo = head()
      const catchUp = async (): Promise<void> => {
        if (from <= catchUpTo) {
          for await (const chunk of readRecords(from, catchUpTo)) {
            if (subscriber.closed) return
            for (const record of chunk) subscriber.next(record)
          }
        }
        for (const record of buffered) subscriber.next(record)
        buffered.length = 0
        caughtUp = true
        if (completedWhileCatchingUp) subscriber.complete()
      }
      const reading = catchUp().catch((error: unknown) => subscriber.error(error))
      this.#catchUps.add(reading)
      void reading.finally(() => this.#catchUps.delete(reading))
      return () => live.unsubscribe()
    })
  }
}
