/**
 * One master holding leases, as an OS process, for test/postgres-leases.test.ts:
 *   node --import tsx test/helpers/lease-holder.ts '<json: { connectionString, schema, sweepIntervalMs, master }>'
 * It opens its own ChangeSources on the schema (maxClockSkewMs 0: every process reads one machine's
 * clock), prints `{"event":"ready"}`, then answers JSON requests from stdin, one a line
 * (`{ id, op, ... }` → `{ id, ok: true, result }` or `{ id, ok: false, code, message }`), and prints
 * events: `claims` for each emission of claims$(master), `renewed`/`renew-failed` for its renewals.
 */
import { createInterface } from 'node:readline'
import { ChangeSources, isChangeSourcesError, type ChangeRecord, type Claim } from '../../src/index.js'

interface Config {
  readonly connectionString: string
  readonly schema: string
  readonly sweepIntervalMs: number
  readonly master: number
}

const config = JSON.parse(process.argv[2]!) as Config
const print = (message: object): void => void process.stdout.write(JSON.stringify(message) + '\n')

const component = await ChangeSources.open({
  postgres: { connectionString: config.connectionString, schema: config.schema, pollIntervalMs: 50 },
  sweepIntervalMs: config.sweepIntervalMs,
  maxClockSkewMs: 0,
  snapshotEvery: 0,
})
const seen: ChangeRecord[] = []
component.changes$.subscribe((record) => seen.push(record))
component.claims$(config.master).subscribe((claims) => print({ event: 'claims', at: Date.now(), claims }))
let renewing: NodeJS.Timeout | undefined

const operations: Record<string, (request: Record<string, unknown>) => Promise<unknown>> = {
  find: (request) => component.findChangeSourceId(request.name as string),
  claim: (request) => component.claimChangeSource(request.changesourceid as number, config.master, { leaseMs: request.leaseMs as number }),
  renew: (request) => component.renewLeases(config.master, request.claims as Claim[]),
  release: (request) => component.releaseChangeSource(request.changesourceid as number, request.token as number),
  /** Renews `claims` every `everyMs`, as a master keeping its pollers would. */
  startRenewing: async (request) => {
    renewing = setInterval(() => {
      component.renewLeases(config.master, request.claims as Claim[]).then(
        (claims) => print({ event: 'renewed', at: Date.now(), claims }),
        (error: unknown) => print({ event: 'renew-failed', code: isChangeSourcesError(error) ? error.code : String(error) }),
      )
    }, request.everyMs as number)
  },
  /** Resolves with the lease-expired record of `changesourceid` naming `masterid`, once this process has it. */
  awaitExpiry: async (request) => {
    const isIt = (record: ChangeRecord) => record.type === 'MasterReleased' && record.reason === 'lease-expired' && record.changesourceid === request.changesourceid && record.masterid === request.masterid
    for (;;) {
      const found = seen.find(isIt)
      if (found !== undefined) return found
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  },
  close: async () => {
    clearInterval(renewing)
    await component.close()
  },
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const request = JSON.parse(line) as Record<string, unknown>
  operations[request.op as string]!(request).then(
    (result) => print({ id: request.id, ok: true, result }),
    (error: unknown) => print({ id: request.id, ok: false, code: isChangeSourcesError(error) ? error.code : 'NOT_OURS', message: error instanceof Error ? error.message : String(error) }),
  )
})
print({ event: 'ready' })
