/**
 * Restoring a state from the log: from the stored snapshot when it can be trusted, plus the
 * records after it; from the first record otherwise. Used by open (the state at the head) and by
 * the point-in-time queries (the state at an earlier seq or time).
 *
 * A snapshot is trusted only when its head and every page pass their checksums, it is of this
 * schema version and format, and the log's record at its seq decodes and carries its hash. Any
 * other snapshot is ignored, with the reason, and the state is folded from seq 1: a snapshot never
 * makes a restore fail and never wins over the log. Its pages are parsed only when the fold, a
 * query or a write first reaches them (id-trie.ts, LazyNode).
 */
import { initialState, type ChangeSourcesState } from '../domain/projection.js'
import type { ChangeRecord } from '../domain/events.js'
import { applyRecord } from '../domain/evolve.js'
import { CorruptLogError } from '../errors.js'
import { freezeFresh } from '../domain/id-trie.js'
import type { LogStore } from '../stores/log-store.js'
import { PageChanges } from '../snapshots/page-changes.js'
import type { StoredSnapshot } from '../snapshots/snapshot.js'
import { isMalformedPage, loadSnapshot, type LoadedSnapshot, type RestoreTarget } from '../snapshots/snapshot-loader.js'
import { decodedNext, recordProblem } from '../log/record-codec.js'
import { chainBreak, missingRecord } from '../log/log-damage.js'
import { ChainVerifier } from '../log/chain-verifier.js'

export type { RestoreTarget } from '../snapshots/snapshot-loader.js'

export interface Restored {
  readonly state: ChangeSourcesState
  /** The snapshot the state started from, or why the stored one was not used. */
  readonly snapshot:
    | { readonly used: true; readonly seq: number; readonly stored: StoredSnapshot }
    | { readonly used: false; readonly reason: string }
  /** The records folded on top of the snapshot (or of the empty state). */
  readonly recordsFolded: number
  /** What the records folded after a snapshot changed, for the snapshotter; nothing when none was used. */
  readonly changes: PageChanges
  /** Stored snapshot parts that no snapshot uses (an older format's, or pages the head does not name), for the next snapshot to delete. */
  readonly obsoleteParts: readonly string[]
  /** The timestamp of the state's last record; undefined for the empty state. */
  readonly timestamp: number | undefined
}

export interface RestoreOptions {
  /**
   * Sees every record folded, in order; when a snapshot page turns out malformed while the tail is
   * folded, the whole log is folded again and it sees them again.
   */
  readonly onRecord?: (record: ChangeRecord) => void
  /** Called as each page of the snapshot the state starts from is parsed: when a fold, a query or a write first reaches it. */
  readonly onPageParsed?: () => void
  /** The records a restore must fold for it to check the hash chain in a worker thread (chain-verifier.ts). */
  readonly chainWorkerFrom?: number
}

// Below this many records, starting a worker costs more than the hashing it takes over.
const CHAIN_WORKER_FROM = 50_000

/** The state at `target`: the trusted snapshot before it (or none) and the records after the snapshot, with the chain checked. */
export async function restoreState(
  store: LogStore,
  target: RestoreTarget = 'head',
  options: RestoreOptions = {},
): Promise<Restored> {
  try {
    return await restoreFrom(store, target, options, await loadSnapshot(store, target, options.onPageParsed))
  } catch (error) {
    // A page is parsed when the tail first reaches it: one that passed the digest and still does not
    // parse costs this restore its snapshot, not its success.
    if (!isMalformedPage(error)) throw error
    return restoreFrom(store, target, options, { reason: (error as Error).message })
  }
}

async function restoreFrom(
  store: LogStore,
  target: RestoreTarget,
  { onRecord, chainWorkerFrom = CHAIN_WORKER_FROM }: RestoreOptions,
  loaded: LoadedSnapshot,
): Promise<Restored> {
  const state = loaded.state ?? initialState()
  const changes = new PageChanges()
  // What changed after a snapshot matters to the snapshotter only: without one it rewrites every
  // page, and tracking a whole long log costs more than the rest of the bookkeeping.
  const trackChanges = loaded.state !== undefined
  let timestamp = loaded.state === undefined ? undefined : loaded.head!.timestamp
  let recordsFolded = 0
  const to = typeof target === 'object' && 'seq' in target ? target.seq : undefined
  const until = typeof target === 'object' && 'time' in target ? target.time : undefined
  const foldsUpTo = to ?? (await store.head())
  const verifier = foldsUpTo - state.seq >= chainWorkerFrom ? new ChainVerifier() : undefined
  const chainChecked = verifier !== undefined
  let lastDecoded = state.seq
  /**
   * What the single-threaded check would have thrown: `error` (found at `seq`), or a break of the
   * chain that the worker found before `seq` — or at it, when `error` is one that the chain check
   * comes before (`chainFirst`: the rules are checked after the chain, the decoding before it).
   */
  const earliest = async (error: unknown, seq: number, chainFirst: boolean): Promise<unknown> => {
    const broken = await verifier?.firstBreak(seq)
    return broken !== undefined && (broken < seq || (broken === seq && chainFirst)) ? chainBreak(broken) : error
  }
  try {
    reading: for await (const chunk of store.read({ from: state.seq + 1, ...(to === undefined ? {} : { to }) })) {
      await verifier?.submit(state.seq + 1, state.hash, chunk.map((entry) => entry.value))
      for (const entry of chunk) {
        let record: ChangeRecord
        try {
          record = decodedNext(state, entry, chainChecked)
        } catch (error) {
          throw await earliest(error, state.seq + 1, false)
        }
        lastDecoded = record.seq
        if (until !== undefined && record.timestamp > until) break reading
        const problem = recordProblem(state, record)
        if (problem !== undefined) throw await earliest(new CorruptLogError(record.seq, `the record ${problem}`), record.seq, true)
        applyRecord(state, record)
        if (trackChanges) changes.record(record)
        timestamp = record.timestamp
        recordsFolded += 1
        onRecord?.(record)
      }
    }
    const broken = await verifier?.firstBreak(lastDecoded)
    if (broken !== undefined) throw chainBreak(broken)
  } finally {
    await verifier?.close()
  }
  if (to !== undefined && state.seq !== to) {
    // The store ended before `to`, which its head said it holds: the records after its end are gone.
    throw missingRecord(state.seq + 1, undefined)
  }
  return {
    state: freezeFresh(state),
    snapshot: loaded.state === undefined ? { used: false, reason: loaded.reason! } : { used: true, seq: loaded.head!.seq, stored: loaded.stored! },
    recordsFolded,
    changes,
    obsoleteParts: loaded.obsoleteParts ?? [],
    timestamp,
  }
}

