/**
 * Follows a log as other processes append to it, for `changesources watch`: the records from a
 * seq, then each new one, in seq order, each exactly once, checked link by link. It only reads:
 * the store's notifications (and its periodic head check) say when to read again.
 */
import type { ChangeRecord } from '../domain/events.js'
import { ChangeSourcesError, CorruptLogError, UnknownSchemaVersionError } from '../errors.js'
import { readCheckedChunks } from '../log/log-reader.js'
import type { LogStore } from '../stores/log-store.js'

export interface FollowOptions {
  /** The first seq to print; default the head + 1 (only what is appended from now on). */
  readonly from?: number
  /** Called with each chunk of records in seq order; the next read waits for it. */
  readonly onRecords: (records: readonly ChangeRecord[]) => Promise<void> | void
  /** Called when a read fails for a reason that may pass (a lost connection); following goes on. */
  readonly onTrouble: (error: unknown) => void
  /** Resolves when following must stop. */
  readonly stopped: Promise<void>
  /** How long to wait before reading again after a failed read, in milliseconds. */
  readonly retryMs: number
}

/** Resolves when `stopped` resolves; rejects on a damaged log (CorruptLogError, UnknownSchemaVersionError). */
export async function followLog(store: LogStore, options: FollowOptions): Promise<void> {
  if (store.onAppended === undefined) throw new TypeError('followLog needs a store with several writers (onAppended)')
  let stop = false
  void options.stopped.then(() => (stop = true))
  let wake = (): void => {}
  const rearm = (): Promise<void> => new Promise<void>((resolve) => (wake = resolve))
  // Listening starts before the first head is read, so that no append falls between the two.
  const stopListening = store.onAppended(() => wake())
  // The store's own timers do not hold the process open (a master must be able to exit); a follower does.
  const keepAlive = setInterval(() => {}, 60_000)
  try {
    let next = options.from
    while (!stop) {
      // Armed before reading: a notification that arrives during the read wakes the next round.
      const nextWake = rearm()
      try {
        const head = await store.head()
        next ??= head + 1
        if (head >= next) {
          for await (const chunk of readCheckedChunks(store, { from: next, to: head })) {
            if (stop) return
            await options.onRecords(chunk.map(({ record }) => record))
            next = chunk[chunk.length - 1]!.record.seq + 1
          }
        }
      } catch (error) {
        if (!mayPass(error)) throw error
        options.onTrouble(error)
        await Promise.race([delay(options.retryMs), options.stopped])
        continue
      }
      await Promise.race([nextWake, options.stopped])
    }
  } finally {
    clearInterval(keepAlive)
    stopListening()
  }
}

/** A failure that reading again may get past (a lost connection), as opposed to a damaged log or a bug here. */
function mayPass(error: unknown): boolean {
  if (error instanceof CorruptLogError || error instanceof UnknownSchemaVersionError) return false
  return error instanceof ChangeSourcesError || !(error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError)
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
