// Invariants under load: tens of simulated masters, each running Buildbot's clustered-service loop
// (find the id, try to claim, run briefly, release or be deactivated) against one component, with
// thousands of operations in flight. Checked live from the stream and from the masters' own view:
// never two holders, every MasterClaimed finds the source free, ids and seqs contiguous, and every
// subscriber (live ones and catch-up ones started mid-run) sees every record once and in order.
import fc from 'fast-check'
import type { Subscription } from 'rxjs'
import { test as plainTest } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChangeRecord, ChangeSources } from '../src/index.js'
import { onEachBackend } from './helpers/backends.js'
import { replayed } from './helpers/drive.js'
import { LONG, runs } from './helpers/long.js'

const MASTERS = LONG ? 80 : 40
const ROUNDS = LONG ? 150 : 40
const SOURCES = 12

function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Replays records as they arrive and fails on the first that breaks an invariant. */
class Auditor {
  readonly holders = new Map<number, number | null>()
  readonly records: ChangeRecord[] = []
  readonly problems: string[] = []

  constructor(readonly firstSeq = 1) {}

  see(record: ChangeRecord): void {
    const expectedSeq = this.firstSeq + this.records.length
    if (record.seq !== expectedSeq) this.problems.push(`seq ${record.seq} arrived where ${expectedSeq} was due`)
    this.records.push(record)
    switch (record.type) {
      case 'ChangeSourceRegistered':
        if (this.firstSeq === 1 && record.changesourceid !== this.holders.size + 1) {
          this.problems.push(`id ${record.changesourceid} registered after ${this.holders.size} ids`)
        }
        this.holders.set(record.changesourceid, null)
        break
      case 'MasterClaimed': {
        const holder = this.holders.get(record.changesourceid)
        if (this.firstSeq === 1 && holder !== null) {
          this.problems.push(`seq ${record.seq}: master ${record.masterid} claimed ${record.changesourceid}, held by ${String(holder)}`)
        }
        this.holders.set(record.changesourceid, record.masterid)
        break
      }
      case 'MasterReleased': {
        const holder = this.holders.get(record.changesourceid)
        if (this.firstSeq === 1 && holder !== record.masterid) {
          this.problems.push(`seq ${record.seq}: release of ${record.changesourceid} by ${record.masterid}, held by ${String(holder)}`)
        }
        this.holders.set(record.changesourceid, null)
        break
      }
    }
  }
}

async function clusteredServices(cs: ChangeSources, seed: number): Promise<{ operations: number; claims: number }> {
  const random = prng(seed)
  const running = new Map<number, number>()
  let operations = 0
  let claims = 0
  const pause = (): Promise<void> => new Promise((resolve) => (random() < 0.5 ? setImmediate(resolve) : queueMicrotask(resolve)))

  async function master(me: number): Promise<void> {
    const mine = new Set<number>()
    for (let round = 0; round < ROUNDS; round++) {
      // A master runs several change sources: it asks for a few at once.
      const names = Array.from({ length: 1 + Math.floor(random() * 4) }, () => `source-${Math.floor(random() * SOURCES)}`)
      const ids = await Promise.all(names.map((name) => cs.findChangeSourceId(name)))
      const outcomes = await Promise.all(ids.map((id) => cs.trySetChangeSourceMaster(id, me)))
      operations += names.length * 2
      outcomes.forEach((claimed, index) => {
        const id = ids[index]!
        if (!claimed) return
        claims++
        const other = running.get(id)
        if (other !== undefined && other !== me) assert.unreachable(`masters ${other} and ${me} both run change source ${id}`)
        running.set(id, me)
        mine.add(id)
      })
      for (const held of mine) {
        assert.is((await cs.getChangeSource(held))?.masterid, me, `master ${me} runs ${held}, so it holds it`)
        operations++
      }
      await pause()
      const roll = random()
      if (roll < 0.1) {
        // The master goes away: another master's housekeeping deactivates it.
        for (const held of mine) running.delete(held)
        const releasedIds = await cs.masterDeactivated(me)
        operations++
        assert.equal(releasedIds, [...mine].sort((a, b) => a - b), `deactivating ${me} releases what it held`)
        mine.clear()
      } else if (roll < 0.5 && mine.size > 0) {
        const held = [...mine][Math.floor(random() * mine.size)]!
        running.delete(held)
        mine.delete(held)
        await cs.setChangeSourceMaster(held, null)
        operations++
      }
    }
    for (const held of mine) running.delete(held)
    await cs.masterDeactivated(me)
    operations++
  }

  const masters: Promise<void>[] = []
  for (let me = 1; me <= MASTERS; me++) masters.push(master(me))
  await Promise.all(masters)
  return { operations, claims }
}

onEachBackend('invariants under load', (test) => {
  test('masters running the clustered-service loop: one holder at a time, every record once and in order to every subscriber', async ({ store }) => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const cs = await store.open()
        const base = cs.head
        const live = [new Auditor(base + 1), new Auditor(base + 1), new Auditor(base + 1)]
        const subscriptions: Subscription[] = live.map((auditor) => cs.changes$.subscribe((record) => auditor.see(record)))
        const fromStart = new Auditor()
        subscriptions.push(cs.watch({ from: 1 }).subscribe((record) => fromStart.see(record)))
        // Catch-up subscribers that join while the masters run.
        const late: Auditor[] = []
        const joining = (async () => {
          for (let index = 0; index < 4; index++) {
            await new Promise((resolve) => setTimeout(resolve, 5))
            const auditor = new Auditor()
            late.push(auditor)
            subscriptions.push(cs.watch({ from: 1 }).subscribe((record) => auditor.see(record)))
          }
        })()
        const { operations, claims } = await clusteredServices(cs, seed)
        await joining
        const log = await replayed(cs)
        for (const subscription of subscriptions) subscription.unsubscribe()
        await cs.close()

        assert.ok(operations >= MASTERS * ROUNDS * 2, `thousands of operations (${operations})`)
        assert.ok(claims > MASTERS, `claims happened (${claims})`)
        for (const auditor of [...live, fromStart, ...late]) assert.equal(auditor.problems, [])
        for (const auditor of live) assert.equal(auditor.records, log.slice(base))
        for (const auditor of [fromStart, ...late]) assert.equal(auditor.records, log)
        // The whole log, replayed from the start, never has two holders.
        const whole = new Auditor()
        for (const record of log) whole.see(record)
        assert.equal(whole.problems, [])
        assert.ok([...whole.holders.values()].every((holder) => holder === null), 'every master ended deactivated')
      }),
      { numRuns: runs(2, 10) },
    )
  })
})

onEachBackend('a storm of claims', (test) => {
  test('thousands of claims in flight at once: exactly one winner per change source, the losers told so', async ({ store }) => {
    const cs = await store.open()
    const ids = await Promise.all(Array.from({ length: SOURCES }, (_, index) => cs.findChangeSourceId(`storm-${index}`)))
    const attempts: Array<{ id: number; master: number; outcome: Promise<boolean> }> = []
    for (let round = 0; round < (LONG ? 50 : 10); round++) {
      for (let master = 1; master <= MASTERS; master++) {
        for (const id of ids) attempts.push({ id, master, outcome: cs.trySetChangeSourceMaster(id, master) })
      }
    }
    assert.ok(attempts.length >= 4000, `${attempts.length} commands in flight`)
    const outcomes = await Promise.all(attempts.map((attempt) => attempt.outcome))
    const winners = new Map<number, number[]>()
    outcomes.forEach((won, index) => {
      const { id, master } = attempts[index]!
      if (won) winners.set(id, [...(winners.get(id) ?? []), master])
    })
    for (const id of ids) {
      const holder = (await cs.getChangeSource(id))?.masterid
      // The first attempt wins; later attempts by the same master are no-op successes, others lose.
      assert.is(holder, 1, `the first claim of ${id} in queue order wins`)
      assert.equal([...new Set(winners.get(id))], [holder], `only the holder was told it won ${id}`)
    }
    const claimedRecords = (await replayed(cs)).filter((record) => record.type === 'MasterClaimed')
    assert.is(claimedRecords.length, SOURCES, 'one MasterClaimed per change source')
  })
})


plainTest('the auditor catches a double claim, a release by a non-holder, a gap and a skipped id', () => {
  const stamp = (seq: number) => ({ seq, timestamp: 0, version: 1, hash: '0'.repeat(64) })
  const auditor = new Auditor()
  auditor.see({ type: 'ChangeSourceRegistered', changesourceid: 1, name: 'a', ...stamp(1) })
  auditor.see({ type: 'MasterClaimed', changesourceid: 1, masterid: 1, ...stamp(2) })
  auditor.see({ type: 'MasterClaimed', changesourceid: 1, masterid: 2, ...stamp(3) })
  auditor.see({ type: 'MasterReleased', changesourceid: 1, masterid: 3, reason: 'released', ...stamp(4) })
  auditor.see({ type: 'ChangeSourceRegistered', changesourceid: 3, name: 'c', ...stamp(6) })
  assert.is(auditor.problems.length, 4, auditor.problems.join('\n'))
})
plainTest.run()
