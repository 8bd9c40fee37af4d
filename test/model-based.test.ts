// Model-based property tests: random sequences of registrations, claims, try-claims, releases,
// master deactivations, concurrent groups and close-and-reopen, run against the component and
// against the pure model in helpers/model.ts. After every step: every query with every filter, the
// records seen on changes$, a replay through watch({ from: 1 }) and (memory backend) a second open of
// the same database all agree with the model. fast-check prints the seed and the shrunk sequence of a
// failing run; CHANGESOURCES_LONG=1 runs thousands.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import type { Subscription } from 'rxjs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, type ChangeRecord, type OpenOptions } from '../src/index.js'
import { componentView, issue, replayed } from './helpers/drive.js'
import { runs } from './helpers/long.js'
import { cloneModel, emptyModel, eventOf, modelView, step, type Model, type Op } from './helpers/model.js'

const NAMES = ['a', 'b', 'c', 'd', 'e', '', 'x y', 'é', 'A']
const MASTERS = [1, 2, 3, 4]
// Ids past the registered ones are asked for too: unknown ids must be refused alike.
const MAX_ID = NAMES.length + 2

interface Real {
  where: Pick<OpenOptions, 'db' | 'location' | 'snapshotEvery'>
  cs: ChangeSources
  recorded: ChangeRecord[]
  subscription: Subscription
  /** A second instance may open the same memory-level database to check what a reopen gives. */
  sharedDb: MemoryLevel | undefined
}

async function openReal(real: Omit<Real, 'cs' | 'subscription'> & Partial<Real>): Promise<void> {
  real.cs = await ChangeSources.open({ ...real.where, sync: false })
  real.subscription = real.cs.changes$.subscribe((record) => real.recorded.push(record))
}

async function verify(model: Model, real: Real): Promise<void> {
  const expected = modelView(model, MASTERS, MAX_ID)
  assert.equal(await componentView(real.cs, MASTERS, MAX_ID), expected, 'the queries')
  assert.equal(real.recorded.map(eventOf), model.events, 'the records on changes$')
  assert.equal(
    real.recorded.map((record) => record.seq),
    model.events.map((_, index) => index + 1),
    'the seqs on changes$',
  )
  assert.equal(await replayed(real.cs), real.recorded, 'watch({ from: 1 }) against changes$')
  if (real.sharedDb !== undefined) {
    // A second writer on one database is refused while the first is open; a reader restores the
    // same state as a reopen would, snapshot and all.
    const reader = await AuditLog.open({ db: real.sharedDb })
    try {
      const reopened = await reader.at({ seq: reader.head })
      const view = { head: reopened.seq, getChangeSource: reopened.getChangeSource.bind(reopened), getChangeSources: reopened.getChangeSources.bind(reopened) }
      assert.equal(await componentView(view, MASTERS, MAX_ID), expected, 'the queries after a reopen')
    } finally {
      await reader.close()
    }
  }
}

class OpCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    const expected = step(model, this.op)
    assert.equal(await issue(real.cs, this.op), expected, `the answer to ${this.toString()}`)
    await verify(model, real)
  }
  toString(): string {
    return JSON.stringify(this.op)
  }
}

class GroupCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ops: Op[]) {}
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    // Issued in one tick: the writer decides them in call order, as the model applies them.
    const expected = this.ops.map((op) => step(model, op))
    const answers = await Promise.all(this.ops.map((op) => issue(real.cs, op)))
    assert.equal(answers, expected, `the answers to ${this.toString()}`)
    await verify(model, real)
  }
  toString(): string {
    return `group(${this.ops.map((op) => JSON.stringify(op)).join(', ')})`
  }
}

class ReopenCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true
  }
  async run(model: Model, real: Real): Promise<void> {
    const before = cloneModel(model)
    await real.cs.close()
    assert.ok(real.subscription.closed, 'close() completes changes$')
    await openReal(real)
    assert.equal(model, before)
    await verify(model, real)
  }
  toString(): string {
    return 'closeAndReopen'
  }
}

const id = fc.integer({ min: 1, max: MAX_ID })
const master = fc.constantFrom(...MASTERS)
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NAMES).map((name) => ({ op: 'register' as const, name })) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('claim' as const), id, master }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('tryClaim' as const), id, master }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deactivate' as const), master }) },
)
const commands = fc.commands(
  [
    op.map((one) => new OpCommand(one)),
    fc.array(op, { minLength: 2, maxLength: 8 }).map((ops) => new GroupCommand(ops)),
    fc.constant(new ReopenCommand()),
  ],
  { maxCommands: 25 },
)

async function runOnce(where: Real['where'], sharedDb: MemoryLevel | undefined, cmds: Iterable<fc.AsyncCommand<Model, Real>>): Promise<void> {
  const real = { where, recorded: [], sharedDb } as unknown as Real
  await openReal(real)
  try {
    await fc.asyncModelRun(() => ({ model: emptyModel(), real }), cmds)
    // And at the end of every run, a full close and reopen.
    await new ReopenCommand().run(rebuild(real.recorded), real)
  } finally {
    await real.cs.close()
  }
}

/** The model a log of records leads to, by the model's own rules (used for the final reopen). */
function rebuild(records: readonly ChangeRecord[]): Model {
  const model = emptyModel()
  for (const record of records) {
    const event = eventOf(record)
    if (event.type === 'ChangeSourceRegistered') step(model, { op: 'register', name: event.name })
    else if (event.type === 'MasterClaimed') step(model, { op: 'claim', id: event.changesourceid, master: event.masterid })
    else if (event.reason === 'released') step(model, { op: 'release', id: event.changesourceid })
    else {
      model.holders[event.changesourceid - 1] = null
      model.events.push(event)
    }
  }
  assert.equal(model.events, records.map(eventOf), 'the model replays the log it predicted')
  return model
}

// Snapshots every record, every few, or never: each reopen then starts from a lazily loaded
// snapshot plus a tail, or from the whole log, and must answer alike.
const snapshotEvery = fc.constantFrom(0, 1, 3, 10_000)

const test = suite('model-based: component against a pure model')

test('memory-level: every step agrees with the model, and so does a second open of the database', async () => {
  await fc.assert(
    fc.asyncProperty(commands, snapshotEvery, async (cmds, every) => {
      const db = new MemoryLevel()
      try {
        await runOnce({ db, snapshotEvery: every }, db, cmds)
      } finally {
        await db.close()
      }
    }),
    { numRuns: runs(300, 5000) },
  )
})

test('LevelDB on disk: every step agrees with the model, across close-and-reopen', async () => {
  await fc.assert(
    fc.asyncProperty(commands, snapshotEvery, async (cmds, every) => {
      const folder = await mkdtemp(join(tmpdir(), 'changesources-model-'))
      try {
        await runOnce({ location: join(folder, 'db'), snapshotEvery: every }, undefined, cmds)
      } finally {
        await rm(folder, { recursive: true, force: true })
      }
    }),
    { numRuns: runs(60, 1000) },
  )
})

test('the model agrees with the reference on a fixed case (a model that is wrong the same way as the code would pass)', () => {
  const model = emptyModel()
  assert.equal(step(model, { op: 'register', name: 'cool_source' }), { ok: 1 })
  assert.equal(step(model, { op: 'claim', id: 1, master: 13 }), { ok: undefined })
  assert.equal(step(model, { op: 'claim', id: 1, master: 14 }), { error: 'CHANGESOURCES_ALREADY_CLAIMED' })
  assert.equal(step(model, { op: 'tryClaim', id: 1, master: 13 }), { ok: true })
  assert.equal(step(model, { op: 'release', id: 2 }), { error: 'CHANGESOURCES_UNKNOWN_CHANGE_SOURCE' })
  assert.equal(step(model, { op: 'deactivate', master: 13 }), { ok: [1] })
  assert.equal(modelView(model, [13], 1), {
    head: 3,
    byId: [{ id: 1, name: 'cool_source', masterid: null }],
    lists: [
      [{ id: 1, name: 'cool_source', masterid: null }],
      [{ id: 1, name: 'cool_source', masterid: null }],
      [],
      [{ id: 1, name: 'cool_source', masterid: null }],
      [],
      [],
      [],
    ],
  })
})

test.run()
