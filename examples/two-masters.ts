/**
 * `npm start`: a build master embedding changesources, in miniature.
 *
 * Two masters share one configuration of change sources. Each runs Buildbot's clustered-service
 * loop for every change source: find its id, try to claim it, run it if the claim succeeds, poll
 * again later if not. Master 1 starts first and wins everything; then it stops (releasing its
 * claims, as a master's deactivation housekeeping does), and master 2 takes over on its next poll.
 * Every claim change is printed live from the component's stream.
 */
import { mkdirSync } from 'node:fs'
import { ChangeSources, type ChangeRecord } from '../src/index.js'

const LOCATION = './data/changesources'
const CHANGE_SOURCES = ['GitPoller:https://github.com/acme/app.git', 'GitPoller:https://github.com/acme/lib.git', 'GerritChangeSource:review.acme.org']
const POLL_INTERVAL_MS = 150

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds))

function describeRecord(record: ChangeRecord): string {
  const time = new Date(record.timestamp).toISOString().slice(11, 23)
  switch (record.type) {
    case 'ChangeSourceRegistered':
      return `${time}  #${record.seq}  registered   change source ${record.changesourceid} ${record.name}`
    case 'MasterClaimed':
      return `${time}  #${record.seq}  claimed      change source ${record.changesourceid} by master ${record.masterid}`
    case 'MasterReleased':
      return `${time}  #${record.seq}  released     change source ${record.changesourceid} by master ${record.masterid} (${record.reason})`
    case 'LeasesRenewed':
      return `${time}  #${record.seq}  renewed      the leases of master ${record.masterid}`
  }
}

/** One master: a clustered service per change source, polling until it holds the claim. */
class Master {
  readonly running = new Set<number>()
  #stopped = false
  #loops: Promise<void>[] = []

  constructor(
    readonly masterid: number,
    readonly changeSources: ChangeSources,
  ) {}

  async start(): Promise<void> {
    // As Buildbot does at start-up: whatever this master held before a crash is released first.
    await this.changeSources.masterDeactivated(this.masterid)
    this.#loops = CHANGE_SOURCES.map((name) => this.#runService(name))
  }

  async #runService(name: string): Promise<void> {
    const id = await this.changeSources.findChangeSourceId(name)
    while (!this.#stopped) {
      if (await this.changeSources.trySetChangeSourceMaster(id, this.masterid)) {
        this.running.add(id)
        return
      }
      await sleep(POLL_INTERVAL_MS)
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
    for (const id of this.running) await this.changeSources.setChangeSourceMaster(id, null)
    this.running.clear()
  }
}

mkdirSync('./data', { recursive: true })
const changeSources = await ChangeSources.open({ location: LOCATION })
const startedAt = changeSources.head + 1
console.log(`opened ${LOCATION}: the log holds ${changeSources.head} records\n`)
const printing = changeSources.changes$.subscribe((record) => console.log(describeRecord(record)))

const master1 = new Master(1, changeSources)
const master2 = new Master(2, changeSources)
await master1.start()
await sleep(50)
await master2.start()
await sleep(3 * POLL_INTERVAL_MS)
console.log(`\nmaster 1 runs ${[...master1.running].join(', ') || 'nothing'}; master 2 runs ${[...master2.running].join(', ') || 'nothing'}`)
console.log('master 1 stops\n')
await master1.stop()
await sleep(3 * POLL_INTERVAL_MS)
console.log(`\nmaster 2 runs ${[...master2.running].join(', ')}`)
console.log('master 2 is declared dead; its change sources are released in one append\n')
const released = await changeSources.masterDeactivated(2)
await master2.stop()
console.log(`\nreleased ${released.join(', ')}`)

console.log('\nthe state now:')
for (const changeSource of await changeSources.getChangeSources()) {
  console.log(`  ${changeSource.id}  ${changeSource.name}  ${changeSource.masterid === null ? 'unclaimed' : `master ${changeSource.masterid}`}`)
}
printing.unsubscribe()

// The audit of this run, from the log: who held what, from when to when, and why it ended.
console.log('\nthe audit of this run (claims as intervals, from the log):')
const { claims } = await changeSources.history()
for (const claim of claims.filter((claim) => (claim.to?.seq ?? Infinity) >= startedAt)) {
  const until = claim.to === null ? 'still held' : `${new Date(claim.to.timestamp).toISOString().slice(11, 23)} (${claim.to.reason})`
  const held = (claim.to?.timestamp ?? Date.now()) - claim.from.timestamp
  console.log(`  ${claim.name}: master ${claim.masterid} from ${new Date(claim.from.timestamp).toISOString().slice(11, 23)} to ${until}, ${held} ms`)
}
const report = await changeSources.verify()
console.log(report.ok ? `the log is whole: ${report.length} records, head hash ${report.headHash.slice(0, 16)}…` : `the log is damaged at seq ${report.seq}`)
await changeSources.close()
console.log(`\nthis run appended records ${startedAt} to ${changeSources.head}`)
console.log(`audit it any time: npx changesources history ${LOCATION} (or state --at <time>, verify)`)
