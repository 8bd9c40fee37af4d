/** Drives helpers/lease-holder.ts processes: requests over stdin, events and answers over stdout, signals. */
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { ChildPeer } from './child-peer.js'

const CHILD = fileURLToPath(new URL('./lease-holder.ts', import.meta.url))

export class LeaseProcess extends ChildPeer {
  /** Every event line the process printed, in order. */
  readonly events: Array<Record<string, unknown>> = []
  readonly ready: Promise<void>

  constructor(config: { connectionString: string; schema: string; sweepIntervalMs: number; master: number }) {
    super(`lease holder of master ${config.master}`, CHILD, config, (event) => this.events.push(event))
    this.ready = this.opened.then(() => {})
  }

  /** Resolves with the first event from index `from` on that `matches`. */
  async event(matches: (event: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
    for (;;) {
      const found = this.events.slice(from).find(matches)
      if (found !== undefined) return found
      if (this.exited) throw new Error(`${this.name} exited: ${this.stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async close(): Promise<void> {
    if (this.exited) return
    const exited = once(this.child, 'exit')
    await this.request('close').catch(() => {})
    this.child.stdin.end()
    this.child.kill('SIGTERM')
    await exited
  }
}
