/**
 * `npm start`: two masters share the change sources of one embedded log. Each claims them with a
 * lease, renews its leases, and starts and stops a poller per change source on its claims$ view.
 * Master 1 then freezes (a long GC pause, a frozen VM): it stops renewing, its poller stops when
 * its lease lapses, the sweep records the expiry, and master 2 takes over. When master 1 wakes up,
 * its stale renewal and release are refused: its tokens are no longer the claims'.
 */
import { mkdirSync } from 'node:fs'
import { ChangeSources, ClaimLostError, type ChangeRecord, type Claim } from '../src/index.js'

const LOCATION = './data/changesources'
const CHANGE_SOURCES = ['GitPoller:https://github.com/acme/app.git', 'GitPoller:https://github.com/acme/lib.git', 'GerritChangeSource:review.acme.org']
const LEASE_MS = 600
const RENEW_EVERY_MS = 150
const CLAIM_RETRY_MS = 100

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds))
const clock = (timestamp: number) => new Date(timestamp).toISOString().slice(11, 23)

function describeRecord(record: ChangeRecord): string {
  const prefix = `${clock(record.timestamp)}  #${String(record.seq).padEnd(4)}`
  switch (record.type) {
    case 'ChangeSourceRegistered':
      return `${prefix}registered   change source ${record.changesourceid} ${record.name}`
    case 'MasterClaimed':
      return `${prefix}claimed      change source ${record.changesourceid} by master ${record.masterid}, token ${record.seq}${record.leaseMs === undefined ? '' : `, lease ${record.leaseMs} ms`}`
    case 'MasterReleased':
      return record.reason === 'lease-expired'
        ? `${prefix}expired      change source ${record.changesourceid} of master ${record.masterid}: its lease ran out at ${clock(record.expiredAt!)}`
        : `${prefix}released     change source ${record.changesourceid} by master ${record.masterid} (${record.reason})`
    case 'LeasesRenewed':
      return `${prefix}renewed      the leases of master ${record.masterid}`
  }
}

/** One master: claims every change source it can with a lease, renews, and polls exactly what claims$ says it holds. */
class Master {
  readonly pollers = new Map<number, Claim>()
  #frozen = false
  #stopped = false
  #held: readonly Claim[] = []
  #loops: Promise<void>[] = []
  readonly #watching

  constructor(
    readonly masterid: number,
    readonly changeSources: ChangeSources,
  ) {
    // Start and stop the pollers on the master's own view of its claims: a lapsed lease stops one at once.
    this.#watching = changeSources.claims$(masterid).subscribe((held) => {
      this.#held = held
      for (const [id, claim] of this.pollers) {
        if (!held.some((live) => live.token === claim.token)) {
          this.pollers.delete(id)
          console.log(`           master ${this.masterid} stops polling change source ${id} (token ${claim.token}): the claim is lost`)
        }
      }
      for (const claim of held) {
        if (this.pollers.has(claim.changesourceid)) continue
        this.pollers.set(claim.changesourceid, claim)
        console.log(`           master ${this.masterid} starts polling change source ${claim.changesourceid} (token ${claim.token})`)
      }
    })
  }

  start(ids: readonly number[]): void {
    this.#loops = [...ids.map((id) => this.#claimLoop(id)), this.#renewLoop()]
  }

  /** Simulates a pause of the whole process: nothing of this master runs, not even its renewals. */
  freeze(): void {
    this.#frozen = true
  }

  /** Back from the pause: the master tries what a stale master would, with the claims it last knew. */
  async wakeUp(stale: readonly Claim[]): Promise<void> {
    this.#frozen = false
    for (const attempt of [() => this.changeSources.renewLeases(this.masterid, stale), () => this.changeSources.releaseChangeSource(stale[0]!.changesourceid, stale[0]!.token)]) {
      try {
        await attempt()
      } catch (error) {
        if (!(error instanceof ClaimLostError)) throw error
        console.log(`           master ${this.masterid} is refused (${error.code}): ${error.message}`)
      }
    }
  }

  get held(): readonly Claim[] {
    return this.#held
  }

  async #claimLoop(id: number): Promise<void> {
    while (!this.#stopped) {
      if (!this.#frozen && !this.#held.some((claim) => claim.changesourceid === id)) {
        await this.changeSources.claimChangeSource(id, this.masterid, { leaseMs: LEASE_MS }).catch(() => {
          // Held by the other master: try again later, when its lease may have run out.
        })
      }
      await sleep(CLAIM_RETRY_MS)
    }
  }

  async #renewLoop(): Promise<void> {
    while (!this.#stopped) {
      if (!this.#frozen && this.#held.length > 0) {
        await this.changeSources.renewLeases(this.masterid, this.#held).catch((error: unknown) => {
          if (!(error instanceof ClaimLostError)) throw error
        })
      }
      await sleep(RENEW_EVERY_MS)
    }
  }

  /** A clean shutdown: the owner-checked release of every claim still held. */
  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
    for (const claim of this.#held) await this.changeSources.releaseChangeSource(claim.changesourceid, claim.token).catch(() => {})
    this.#watching.unsubscribe()
  }
}

mkdirSync('./data', { recursive: true })
const changeSources = await ChangeSources.open({ location: LOCATION, sweepIntervalMs: 100, maxClockSkewMs: 0 })
const startedAt = changeSources.head + 1
console.log(`opened ${LOCATION}: the log holds ${changeSources.head} records\n`)
// Renewals are many and alike: the demo prints only the first one of each master.
const renewedOnce = new Set<number>()
const printing = changeSources.changes$.subscribe((record) => {
  if (record.type === 'LeasesRenewed' && renewedOnce.has(record.masterid)) return
  if (record.type === 'LeasesRenewed') renewedOnce.add(record.masterid)
  console.log(describeRecord(record))
})

const ids: number[] = []
for (const name of CHANGE_SOURCES) ids.push(await changeSources.findChangeSourceId(name))
// As Buildbot does at start-up: whatever these masters held before a crash is released first.
await changeSources.masterDeactivated(1)
await changeSources.masterDeactivated(2)

const master1 = new Master(1, changeSources)
const master2 = new Master(2, changeSources)
master1.start(ids)
await sleep(50)
master2.start(ids)
await sleep(4 * RENEW_EVERY_MS)
const pollersOf = (master: Master) => [...master.pollers.keys()].join(', ') || 'nothing'
console.log(`\nmaster 1 polls ${pollersOf(master1)}; master 2 polls ${pollersOf(master2)}`)
console.log(`master 1 freezes: no renewals for ${LEASE_MS} ms and more\n`)
const staleClaims = master1.held
master1.freeze()
await sleep(LEASE_MS + 5 * CLAIM_RETRY_MS)
console.log(`\nmaster 1 polls ${pollersOf(master1)}; master 2 polls ${pollersOf(master2)}`)
console.log('master 1 wakes up and renews and releases with the claims it knew before the pause\n')
await master1.wakeUp(staleClaims)
await master1.stop()
await master2.stop()
await sleep(10)
printing.unsubscribe()

console.log('\nthe state now:')
for (const changeSource of await changeSources.getChangeSources()) {
  console.log(`  ${changeSource.id}  ${changeSource.name}  ${changeSource.masterid === null ? 'unclaimed' : `master ${changeSource.masterid}`}`)
}

// The audit of this run, from the log: who held what, with which token, from when to when, and why it ended.
console.log('\nthe audit of this run (claims as intervals, from the log):')
const { claims } = await changeSources.history()
for (const claim of claims.filter((claim) => (claim.to?.seq ?? Infinity) >= startedAt)) {
  const end = claim.to?.expiredAt ?? claim.to?.timestamp
  const until = claim.to === null ? 'still held' : `${clock(end!)} (${claim.to.reason})`
  console.log(`  ${claim.name}: master ${claim.masterid}, token ${claim.token}, from ${clock(claim.from.timestamp)} to ${until}, ${(end ?? Date.now()) - claim.from.timestamp} ms`)
}
const report = await changeSources.verify()
console.log(report.ok ? `the log is whole: ${report.length} records, head hash ${report.headHash.slice(0, 16)}…` : `the log is damaged at seq ${report.seq}`)
await changeSources.close()
console.log(`\nthis run appended records ${startedAt} to ${changeSources.head}`)
console.log(`audit it any time: npx changesources history ${LOCATION} (or state --at <time>, verify, report -o report.html)`)
