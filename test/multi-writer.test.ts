// Several components writing one log (the shared memory store). Each command is answered as the
// pure model answers it against the whole log, whichever instance issues it and however stale its
// projection (notifications held back); once caught up, every instance's queries agree with the
// model, and every instance has seen every record exactly once, in seq order, on changes$.
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, ChangeSourceAlreadyClaimedError, ErrorCode, SharedMemoryStore, type ChangeRecord, type LogStore } from '../src/index.js'
import { componentView, issue } from './helpers/drive.js'
import { runs } from './helpers/long.js'
import { dropSchema, testPostgres } from './helpers/postgres.js'
import { randomBytes } from 'node:crypto'
import { emptyModel, eventOf, modelView, step, type Op } from './helpers/model.js'

const NAMES = ['a', 'b', 'c', 'd', 'é']
const MASTERS = [1, 2, 3]
const MAX_ID = NAMES.length + 1

type Step = { kind: 'op'; instance: number; op: Op } | { kind: 'hold' } | { kind: 'release' } | { kind: 'check' }

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('register' as const), name: fc.constantFrom(...NAMES) }),
  fc.record({ op: fc.constant('claim' as const), id: fc.integer({ min: 1, max: MAX_ID }), master: fc.constantFrom(...MASTERS) }),
  fc.record({ op: fc.constant('tryClaim' as const), id: fc.integer({ min: 1, max: MAX_ID }), master: fc.constantFrom(...MASTERS) }),
  fc.record({ op: fc.constant('release' as const), id: fc.integer({ min: 1, max: MAX_ID }) }),
  fc.record({ op: fc.constant('deactivate' as const), master: fc.constantFrom(...MASTERS) }),
)

const stepArbitrary = (instances: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('op' as const), instance: fc.integer({ min: 0, max: instances - 1 }), op: opArbitrary }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'hold' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'release' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'check' }) },
  )

const test = suite('several writers on one log')

test('property: two or three instances, interleaved commands and held notifications, agree with the model', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 3 }).chain((instances) => fc.tuple(fc.constant(instances), fc.array(stepArbitrary(instances), { maxLength: 30 }))),
      async ([count, steps]) => {
        const store = new SharedMemoryStore()
        const components: ChangeSources[] = []
        const seen: ChangeRecord[][] = []
        for (let index = 0; index < count; index++) {
          const component = await ChangeSources.open({ store, snapshotEvery: 5 })
          const records: ChangeRecord[] = []
          component.changes$.subscribe((record) => records.push(record))
          components.push(component)
          seen.push(records)
        }
        const model = emptyModel()
        // Notifications start held, so that instances are stale until a step releases them.
        store.holdNotifications()
        try {
          // Between checks the instances are left as stale as the held notifications make them.
          const check = async (): Promise<void> => {
            const view = modelView(model, MASTERS, MAX_ID)
            for (const [index, component] of components.entries()) {
              await component.catchUp()
              assert.equal(await componentView(component, MASTERS, MAX_ID), view, `instance ${index}'s queries, caught up`)
              assert.equal(seen[index]!.map(eventOf), model.events, `instance ${index} saw every record once, in order`)
              assert.equal(
                seen[index]!.map((record) => record.seq),
                model.events.map((_, position) => position + 1),
              )
            }
          }
          for (const current of steps) {
            if (current.kind === 'hold') store.holdNotifications()
            else if (current.kind === 'release') store.releaseNotifications()
            else if (current.kind === 'check') await check()
            else {
              const expected = step(model, current.op)
              assert.equal(await issue(components[current.instance]!, current.op), expected, `instance ${current.instance}: ${JSON.stringify(current.op)}`)
              // After every command, an instance that has caught up with the whole log (a new one)
              // agrees with the model; the others stay as stale as the held notifications make them,
              // so that the next command may be decided on a stale projection first.
              const fresh = await ChangeSources.open({ store, snapshotEvery: 0 })
              try {
                assert.equal(await componentView(fresh, MASTERS, MAX_ID), modelView(model, MASTERS, MAX_ID), 'a caught-up instance, after every command')
              } finally {
                await fresh.close()
              }
            }
          }
          await check()
        } finally {
          for (const component of components) await component.close()
        }
      },
    ),
    { numRuns: runs(100, 3000) },
  )
})

test('racing claims of one change source from three instances: exactly one wins', async () => {
  for (let round = 0; round < 20; round++) {
    const store = new SharedMemoryStore()
    const components = await Promise.all([1, 2, 3].map(() => ChangeSources.open({ store })))
    const id = await components[0]!.findChangeSourceId('poller')
    await Promise.all(components.map((component) => component.catchUp()))
    if (round % 2 === 1) store.holdNotifications()
    const outcomes = await Promise.allSettled(components.map((component, index) => component.setChangeSourceMaster(id, index + 1)))
    const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [index + 1] : []))
    assert.is(winners.length, 1, `round ${round}: one winner`)
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') assert.instance(outcome.reason, ChangeSourceAlreadyClaimedError)
    }
    store.releaseNotifications()
    for (const component of components) {
      await component.catchUp()
      assert.is((await component.getChangeSource(id))!.masterid, winners[0], 'every instance sees the winner')
      await component.close()
    }
  }
})

test('racing registrations of one name: one id, everywhere', async () => {
  const store = new SharedMemoryStore()
  store.holdNotifications()
  const components = await Promise.all([1, 2, 3].map(() => ChangeSources.open({ store })))
  await components[0]!.findChangeSourceId('first')
  const ids = await Promise.all(components.map((component) => component.findChangeSourceId('shared')))
  assert.equal(ids, [2, 2, 2])
  for (const component of components) {
    await component.catchUp()
    assert.equal((await component.getChangeSources()).map((source) => source.name), ['first', 'shared'])
    await component.close()
  }
})

test('a writer that keeps losing the race fails with CHANGESOURCES_APPEND_CONFLICT, changing nothing', async () => {
  const store = new SharedMemoryStore()
  const other = await ChangeSources.open({ store })
  let interfering = true
  let count = 0
  // The loser's view of the store: before each of its appends, the other writer appends first.
  const losing: LogStore = {
    writers: 'many',
    head: () => store.head(),
    read: (range) => store.read(range),
    async append(entries, expectedHead) {
      if (interfering) await other.findChangeSourceId(`other-${count++}`)
      return store.append(entries, expectedHead)
    },
    onAppended: (listener) => store.onAppended(listener),
    writeSnapshot: (parts) => store.writeSnapshot(parts),
    readSnapshot: (prefix) => store.readSnapshot(prefix),
    close: async () => {},
  }
  const loser = await ChangeSources.open({ store: losing })
  const error = await loser.findChangeSourceId('never').catch((reason: unknown) => reason)
  assert.is((error as { code?: string }).code, ErrorCode.appendConflict)
  assert.ok(count > 1, 'it retried')
  interfering = false
  await loser.catchUp()
  const names = (await loser.getChangeSources()).map((source) => source.name)
  assert.not.ok(names.includes('never'), 'nothing of the batch was stored')
  assert.is(names.length, count, "the other writer's records are all there")
  assert.is(await loser.findChangeSourceId('never'), count + 1, 'and the next try succeeds')
  await loser.close()
  await other.close()
})

test.run()

// The same races with the PostgreSQL store, several components of one process on one schema: the
// primary key and the head check decide, and the losers learn from the server.
const onPostgres = suite('several writers on one log [PostgreSQL, one process]')

async function postgresComponents(count: number): Promise<{ components: ChangeSources[]; drop(): Promise<void> }> {
  const { url } = await testPostgres()
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  const components: ChangeSources[] = []
  for (let index = 0; index < count; index++) components.push(await ChangeSources.open({ postgres: { connectionString: url, schema, pollIntervalMs: 50 } }))
  return {
    components,
    async drop() {
      for (const component of components) await component.close()
      await dropSchema(schema)
    },
  }
}

onPostgres('racing claims of one change source from three components: exactly one wins, every round', async () => {
  const { components, drop } = await postgresComponents(3)
  try {
    for (let round = 0; round < 10; round++) {
      const id = await components[round % 3]!.findChangeSourceId(`poller-${round}`)
      const outcomes = await Promise.allSettled(components.map((component, index) => component.setChangeSourceMaster(id, index + 1)))
      const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [index + 1] : []))
      assert.is(winners.length, 1, `round ${round}: one winner`)
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') assert.instance(outcome.reason, ChangeSourceAlreadyClaimedError)
      }
      for (const component of components) {
        await component.catchUp()
        assert.is((await component.getChangeSource(id))!.masterid, winners[0], 'every component sees the winner')
      }
    }
  } finally {
    await drop()
  }
})

onPostgres('racing registrations of one name: one id, everywhere', async () => {
  const { components, drop } = await postgresComponents(3)
  try {
    const ids = await Promise.all(components.map((component) => component.findChangeSourceId('shared')))
    assert.equal(ids, [1, 1, 1])
    for (const component of components) {
      await component.catchUp()
      assert.equal((await component.getChangeSources()).map((source) => source.name), ['shared'])
    }
  } finally {
    await drop()
  }
})

onPostgres.run()
