/**
 * Checking the hash chain beside the fold: a full replay hashes every record (SHA-256 of its
 * canonical encoding), a large share of its time on one thread. On open the chain is handed, a
 * stretch of records at a time, to a worker thread, and the main thread folds the same records
 * meanwhile; open waits for the worker's answers before it succeeds. The worker only ever adds a
 * check, never skips one: if it cannot start or dies, the stretches it did not answer are checked
 * here, on the main thread.
 */
import { Worker } from 'node:worker_threads'
import { firstChainBreak } from './record-codec.js'

export interface StretchRequest {
  readonly stretch: number
  readonly previousHash: string
  readonly values: readonly string[]
}

export interface StretchAnswer {
  readonly stretch: number
  readonly breakIndex: number
}

interface Stretch {
  readonly firstSeq: number
  readonly previousHash: string
  readonly values: readonly string[]
}

// Stretches sent and not yet answered, at most: a worker slower than the fold (one core shared by
// both) makes the fold wait, rather than holding every record it is behind on.
const MAX_UNANSWERED = 64

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./chain-worker.js', import.meta.url))
  // Run as TypeScript (tests, examples, under tsx): on Node 20 a worker does not inherit tsx's
  // loader, so the worker registers it before it imports its TypeScript entry.
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./chain-worker.ts', import.meta.url).href)
  return new Worker(`import(${loader}).then(({ register }) => { register(); return import(${entry}) })`, { eval: true })
}

export class ChainVerifier {
  readonly #worker: Worker | undefined
  /** Stretches sent and not answered yet, kept to be checked here if the worker fails. */
  readonly #unanswered = new Map<number, Stretch>()
  #nextStretch = 0
  /** The first seq whose record does not chain, among the stretches answered. */
  #firstBreak: number | undefined
  #failed = false
  #waiting: (() => void) | undefined

  constructor() {
    let worker: Worker | undefined
    try {
      worker = startWorker()
    } catch {
      worker = undefined
    }
    this.#worker = worker
    if (worker === undefined) {
      this.#failed = true
      return
    }
    worker.on('message', ({ stretch, breakIndex }: StretchAnswer) => {
      const answered = this.#unanswered.get(stretch)
      this.#unanswered.delete(stretch)
      if (answered !== undefined && breakIndex >= 0) this.#noteBreak(answered.firstSeq + breakIndex)
      this.#wake()
    })
    const fail = () => {
      this.#failed = true
      this.#wake()
    }
    worker.on('error', fail)
    worker.on('exit', fail)
  }

  /**
   * Hands `values`, the stored records from `firstSeq` on (the first chaining to `previousHash`), to
   * the check; resolves at once, or when the worker has caught up enough to take more.
   */
  async submit(firstSeq: number, previousHash: string, values: readonly string[]): Promise<void> {
    while (this.#unanswered.size >= MAX_UNANSWERED && !this.#failed) await new Promise<void>((resolve) => (this.#waiting = resolve))
    if (this.#failed) {
      // No worker (any more): checked here and now, so that nothing is held for it.
      this.#check({ firstSeq, previousHash, values })
      return
    }
    const stretch = this.#nextStretch++
    this.#unanswered.set(stretch, { firstSeq, previousHash, values })
    // The array as it is: cloning it is cheaper than joining the strings into one.
    const request: StretchRequest = { stretch, previousHash, values }
    this.#worker!.postMessage(request)
  }

  /** Once every stretch submitted is checked: the first seq at or before `upTo` whose record does not chain. */
  async firstBreak(upTo: number): Promise<number | undefined> {
    while (this.#unanswered.size > 0 && !this.#failed) await new Promise<void>((resolve) => (this.#waiting = resolve))
    // Those the worker did not answer before it failed (at most MAX_UNANSWERED).
    for (const stretch of this.#unanswered.values()) this.#check(stretch)
    this.#unanswered.clear()
    return this.#firstBreak !== undefined && this.#firstBreak <= upTo ? this.#firstBreak : undefined
  }

  #check({ firstSeq, previousHash, values }: Stretch): void {
    const breakIndex = firstChainBreak(previousHash, values)
    if (breakIndex >= 0) this.#noteBreak(firstSeq + breakIndex)
  }

  async close(): Promise<void> {
    this.#failed = true
    await this.#worker?.terminate()
  }

  #noteBreak(seq: number): void {
    if (this.#firstBreak === undefined || seq < this.#firstBreak) this.#firstBreak = seq
  }

  #wake(): void {
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.()
  }
}
