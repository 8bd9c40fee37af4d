/** Drives helpers/lease-holder.ts processes: requests over stdin, events and answers over stdout, signals. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { RequestFailed } from './master-processes.js'

const CHILD = fileURLToPath(new URL('./lease-holder.ts', import.meta.url))

export class LeaseProcess {
  /** Every event line the process printed, in order. */
  readonly events: Array<Record<string, unknown>> = []
  readonly ready: Promise<void>
  readonly #process: ChildProcessWithoutNullStreams
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  #nextId = 1
  #stderr = ''
  #exited = false

  constructor(config: { connectionString: string; schema: string; sweepIntervalMs: number; master: number }) {
    this.#process = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(config)])
    this.#process.stderr.on('data', (data) => (this.#stderr += data))
    let readied: () => void
    this.ready = new Promise((resolve) => (readied = resolve))
    this.#process.on('exit', () => {
      this.#exited = true
      for (const waiting of this.#waiting.values()) waiting.reject(new Error(`lease holder exited: ${this.#stderr}`))
      this.#waiting.clear()
    })
    createInterface({ input: this.#process.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.event === 'ready') readied()
      else if (message.event !== undefined) this.events.push(message)
      else {
        const waiting = this.#waiting.get(message.id as number)
        this.#waiting.delete(message.id as number)
        if (message.ok) waiting?.resolve(message.result)
        else waiting?.reject(new RequestFailed(message.code as string, message.message as string))
      }
    })
  }

  request<T>(op: string, fields: Record<string, unknown> = {}): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`lease holder has exited: ${this.#stderr}`))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.#process.stdin.write(JSON.stringify({ id, op, ...fields }) + '\n')
    })
  }

  /** The code a request failed with, or 'ok'. */
  outcome(op: string, fields: Record<string, unknown> = {}): Promise<string> {
    return this.request(op, fields).then(
      () => 'ok',
      (error: unknown) => (error instanceof RequestFailed ? error.code : Promise.reject(error)),
    )
  }

  /** Resolves with the first event from index `from` on that `matches`. */
  async event(matches: (event: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
    for (;;) {
      const found = this.events.slice(from).find(matches)
      if (found !== undefined) return found
      if (this.#exited) throw new Error(`lease holder exited: ${this.#stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.#process.kill(signal)
  }

  async kill(): Promise<void> {
    if (this.#exited) return
    const exited = once(this.#process, 'exit')
    this.#process.kill('SIGKILL')
    await exited
  }

  async close(): Promise<void> {
    if (this.#exited) return
    const exited = once(this.#process, 'exit')
    await this.request('close').catch(() => {})
    this.#process.stdin.end()
    this.#process.kill('SIGTERM')
    await exited
  }
}
