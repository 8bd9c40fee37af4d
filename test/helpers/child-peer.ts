/**
 * A test's peer in another OS process: a script run with tsx that reads JSON requests, one per line,
 * on stdin and writes JSON lines on stdout: `{ event: 'ready', … }` once open, other events, and
 * `{ id, ok, result | code, message }` answers. The child scripts: postgres-master.ts, lease-holder.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/** The error a request was answered with, code and message. */
export class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export class ChildPeer {
  /** Resolves with the ready event once the child has opened. */
  readonly opened: Promise<Record<string, unknown>>
  protected readonly child: ChildProcessWithoutNullStreams
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  #nextId = 1
  #stderr = ''
  #exited = false

  constructor(
    readonly name: string,
    script: string,
    config: unknown,
    /** Every event line but `ready`, in order. */
    onEvent: (event: Record<string, unknown>) => void,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)])
    this.child.stderr.on('data', (data) => (this.#stderr += data))
    let readied: (event: Record<string, unknown>) => void
    this.opened = new Promise((resolve) => (readied = resolve))
    this.child.on('exit', () => {
      this.#exited = true
      for (const waiting of this.#waiting.values()) waiting.reject(new Error(`${name} exited: ${this.#stderr}`))
      this.#waiting.clear()
    })
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.event === 'ready') readied(message)
      else if (message.event !== undefined) onEvent(message)
      else {
        const waiting = this.#waiting.get(message.id as number)
        this.#waiting.delete(message.id as number)
        if (message.ok) waiting?.resolve(message.result)
        else waiting?.reject(new RequestFailed(message.code as string, message.message as string))
      }
    })
  }

  get exited(): boolean {
    return this.#exited
  }

  get stderr(): string {
    return this.#stderr
  }

  get pid(): number {
    return this.child.pid!
  }

  request<T>(op: string, fields: Record<string, unknown> = {}): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} has exited: ${this.#stderr}`))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.child.stdin.write(JSON.stringify({ id, op, ...fields }) + '\n')
    })
  }

  /** The error code a request was answered with, or 'ok'. */
  outcome(op: string, fields: Record<string, unknown> = {}): Promise<string> {
    return this.request(op, fields).then(
      () => 'ok',
      (error: unknown) => (error instanceof RequestFailed ? error.code : Promise.reject(error)),
    )
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  async kill(): Promise<void> {
    if (this.#exited) return
    const exited = once(this.child, 'exit')
    this.child.kill('SIGKILL')
    await exited
  }
}
