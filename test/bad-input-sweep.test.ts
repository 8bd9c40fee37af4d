// A bad-input sweep: every public method and every open option, called with values of every
// JavaScript type in every position (numbers at and past the safe-integer edge, -0, NaN, Infinity,
// lone surrogates, strings past 64 KiB of UTF-8, odd prototypes, throwing getters, Proxies, revoked
// Proxies, symbols, functions, bigints, null and undefined). Each call either succeeds as specified
// or rejects (watch: throws or errors) with one of our typed errors; a refused call changes nothing:
// the head, every query and the stored log are the same after it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, isChangeSourcesError } from '../src/index.js'
import { componentView, replayed } from './helpers/drive.js'
import { runs } from './helpers/long.js'

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const throwing = (): never => {
  throw new Error('boom from a getter')
}
const hostileProxy = new Proxy(
  {},
  { get: throwing, has: throwing, ownKeys: throwing, getOwnPropertyDescriptor: throwing, getPrototypeOf: throwing },
)

/** Named values: every type, and the edges of each. */
const VALUES: Array<[string, () => unknown]> = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['true', () => true],
  ['false', () => false],
  ['0', () => 0],
  ['-0', () => -0],
  ['-1', () => -1],
  ['1.5', () => 1.5],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['MAX_SAFE_INTEGER', () => Number.MAX_SAFE_INTEGER],
  ['MAX_SAFE_INTEGER + 1', () => Number.MAX_SAFE_INTEGER + 1],
  ['2^53 + 2', () => 2 ** 53 + 2],
  ['MIN_SAFE_INTEGER', () => Number.MIN_SAFE_INTEGER],
  ['MAX_VALUE', () => Number.MAX_VALUE],
  ['MIN_VALUE', () => Number.MIN_VALUE],
  ['1e21', () => 1e21],
  ['empty string', () => ''],
  ['"1"', () => '1'],
  ['lone high surrogate', () => '\uD800'],
  ['lone low surrogate inside', () => 'a\uDC00b'],
  ['NUL', () => '\u0000'],
  ['70000 ASCII characters', () => 'x'.repeat(70_000)],
  ['65536 bytes exactly', () => 'y'.repeat(65_536)],
  ['65537 bytes in 32769 characters', () => 'é'.repeat(32_768) + 'z'],
  ['1n', () => 1n],
  ['2^64n', () => 2n ** 64n],
  ['a symbol', () => Symbol('s')],
  ['a function', () => () => 1],
  ['a class', () => class {}],
  ['an empty array', () => []],
  ['[1]', () => [1]],
  ['{}', () => ({})],
  ['Object.create(null)', () => Object.create(null)],
  ['an object inheriting active/masterid/from', () => Object.create({ active: true, masterid: 1, from: 1, db: 1 })],
  ['a Date', () => new Date(0)],
  ['a RegExp', () => /x/],
  ['a Map', () => new Map([['active', true]])],
  ['a Promise', () => Promise.resolve(1)],
  ['new Number(1)', () => new Number(1)],
  ['new String("a")', () => new String('a')],
  ['new Boolean(true)', () => new Boolean(true)],
  ['an object whose getters throw', () => ({ get active() { return throwing() }, get masterid() { return throwing() }, get from() { return throwing() }, get db() { return throwing() }, get location() { return throwing() }, get sync() { return throwing() }, get now() { return throwing() } })],
  ['an object whose conversions throw', () => ({ valueOf: throwing, toString: throwing, [Symbol.toPrimitive]: throwing })],
  ['a Proxy that throws on every trap', () => hostileProxy],
  ['a revoked Proxy', revokedProxy],
  ['a frozen object', () => Object.freeze({ active: true })],
  ['{ active: 1 }', () => ({ active: 1 })],
  ['{ masterid: -0 }', () => ({ masterid: -0 })],
  ['{ from: 0 }', () => ({ from: 0 })],
]

interface Outcome {
  kind: 'resolved' | 'rejected' | 'threw'
  value?: unknown
  error?: unknown
}

async function outcomeOf(call: () => unknown): Promise<Outcome> {
  let result: unknown
  try {
    result = call()
  } catch (error) {
    return { kind: 'threw', error }
  }
  try {
    return { kind: 'resolved', value: await result }
  } catch (error) {
    return { kind: 'rejected', error }
  }
}

function assertTyped(outcome: Outcome, label: string): void {
  if (outcome.kind === 'resolved') return
  const error = outcome.error as { code?: unknown; message?: unknown } | undefined
  assert.ok(isChangeSourcesError(outcome.error), `${label} ${outcome.kind} an untyped error: ${String(error?.message ?? error)}`)
  assert.type(error!.message, 'string')
}

const isId = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value > 0
const isName = (value: unknown): boolean => typeof value === 'string' && value.isWellFormed() && Buffer.byteLength(value) <= 65_536

async function fixture(): Promise<{ db: MemoryLevel<string, string>; cs: ChangeSources }> {
  const db = new MemoryLevel<string, string>()
  const cs = await ChangeSources.open({ db })
  for (const name of ['a', 'b', 'c']) await cs.findChangeSourceId(name)
  await cs.setChangeSourceMaster(1, 1)
  await cs.setChangeSourceMaster(2, 2)
  return { db, cs }
}

async function snapshotOf(db: MemoryLevel<string, string>, cs: ChangeSources): Promise<unknown> {
  return { view: await componentView(cs, [1, 2, 3], 5), stored: await db.iterator().all() }
}

/** The calls of the sweep: each takes the value and says what success must look like. */
type Call = [string, (cs: ChangeSources, value: unknown) => unknown, (value: unknown, result: unknown) => boolean]
const CALLS: Call[] = [
  ['findChangeSourceId(v)', (cs, v) => cs.findChangeSourceId(v as string), (v, id) => isName(v) && isId(id)],
  ['setChangeSourceMaster(v, 1)', (cs, v) => cs.setChangeSourceMaster(v as number, 1), (v) => isId(v)],
  ['setChangeSourceMaster(3, v)', (cs, v) => cs.setChangeSourceMaster(3, v as number), (v) => isId(v) || v === null],
  ['setChangeSourceMaster(v, v)', (cs, v) => cs.setChangeSourceMaster(v as number, v as number), (v) => isId(v)],
  ['trySetChangeSourceMaster(v, 1)', (cs, v) => cs.trySetChangeSourceMaster(v as number, 1), (v, r) => isId(v) && typeof r === 'boolean'],
  ['trySetChangeSourceMaster(3, v)', (cs, v) => cs.trySetChangeSourceMaster(3, v as number), (v, r) => (isId(v) || v === null) && typeof r === 'boolean'],
  ['getChangeSource(v)', (cs, v) => cs.getChangeSource(v as number), (v, r) => isId(v) && (r === null || typeof r === 'object')],
  ['getChangeSources(v)', (cs, v) => cs.getChangeSources(v as never), (_, r) => Array.isArray(r)],
  ['getChangeSources({ active: v })', (cs, v) => cs.getChangeSources({ active: v as boolean }), (v, r) => (v === undefined || typeof v === 'boolean') && Array.isArray(r)],
  ['getChangeSources({ masterid: v })', (cs, v) => cs.getChangeSources({ masterid: v as number }), (v, r) => (v === undefined || isId(v)) && Array.isArray(r)],
  ['getChangeSources({ active: v, masterid: v })', (cs, v) => cs.getChangeSources({ active: v as boolean, masterid: v as number }), (v) => v === undefined],
  ['masterDeactivated(v)', (cs, v) => cs.masterDeactivated(v as number), (v, r) => isId(v) && Array.isArray(r)],
  ['watch(v)', (cs, v) => firstFromWatch(cs, v as never), (_, r) => r === 'subscribed'],
  ['watch({ from: v })', (cs, v) => firstFromWatch(cs, { from: v } as never), (v, r) => (v === undefined || isId(v)) && r === 'subscribed'],
]

/** watch() returns synchronously: a throw must be typed; an error on the subscription must be too. */
async function firstFromWatch(cs: ChangeSources, options: never): Promise<string> {
  const observable = cs.watch(options)
  return new Promise((resolve, reject) => {
    const subscription = observable.subscribe({ error: reject, complete: () => resolve('subscribed') })
    setImmediate(() => {
      subscription.unsubscribe()
      resolve('subscribed')
    })
  })
}

const test = suite('bad-input sweep')

test('every method, every position, every named value: success as specified or a typed error, and a refusal changes nothing', async () => {
  const { db, cs } = await fixture()
  let refused = 0
  let succeeded = 0
  for (const [method, call, valid] of CALLS) {
    for (const [name, make] of VALUES) {
      const label = `${method} with v = ${name}:`
      const before = await snapshotOf(db, cs)
      const outcome = await outcomeOf(() => call(cs, make()))
      assertTyped(outcome, label)
      if (outcome.kind === 'resolved') {
        succeeded++
        assert.ok(valid(make(), outcome.value), `${label} resolved (${String(outcome.value)}) where it must refuse`)
      } else {
        refused++
        assert.equal(await snapshotOf(db, cs), before, `${label} refused, yet changed the state`)
      }
    }
  }
  assert.ok(refused > succeeded, `${refused} refused, ${succeeded} succeeded`)
  // What did succeed left a log that replays to the same state.
  const view = await componentView(cs, [1, 2, 3], 8)
  const log = await replayed(cs)
  await cs.close()
  const again = await ChangeSources.open({ db })
  assert.equal(await componentView(again, [1, 2, 3], 8), view)
  assert.equal(await replayed(again), log)
  await again.close()
})

test('property: arbitrary values (fc.anything) in every position of every method', async () => {
  const { db, cs } = await fixture()
  const anything = fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withTypedArray: true, withSparseArray: true, withUnicodeString: true })
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...CALLS), anything, async ([method, call, valid], value) => {
      const before = await snapshotOf(db, cs)
      const outcome = await outcomeOf(() => call(cs, value))
      assertTyped(outcome, method)
      if (outcome.kind === 'resolved') assert.ok(valid(value, outcome.value), `${method} resolved where it must refuse`)
      else assert.equal(await snapshotOf(db, cs), before, `${method} refused, yet changed the state`)
    }),
    { numRuns: runs(300, 5000) },
  )
  await cs.close()
  await db.close()
})

test('ChangeSources.open: every option with every named value opens or refuses with a typed error, and leaves the database as it was', async () => {
  const { db, cs } = await fixture()
  await cs.close()
  const stored = await db.iterator().all()
  const folder = await mkdtemp(join(tmpdir(), 'changesources-sweep-'))
  const open = async (options: unknown, label: string): Promise<void> => {
    const outcome = await outcomeOf(() => ChangeSources.open(options as never))
    assertTyped(outcome, label)
    if (outcome.kind === 'resolved') await (outcome.value as ChangeSources).close()
    assert.equal(await db.iterator().all(), stored, `${label} changed the stored log`)
  }
  try {
    for (const [name, make] of VALUES) {
      await open(make(), `open(${name})`)
      await open({ db: make() }, `open({ db: ${name} })`)
      await open({ db, sync: make() }, `open({ db, sync: ${name} })`)
      await open({ db, now: make() }, `open({ db, now: ${name} })`)
      await open({ db, snapshotEvery: make() }, `open({ db, snapshotEvery: ${name} })`)
      await open({ db, location: make() }, `open({ db, location: ${name} })`)
      const location = make()
      // A string location is tried inside a temporary folder, never in the working directory.
      await open({ location: typeof location === 'string' && location.length > 0 ? join(folder, location.slice(0, 200)) : location }, `open({ location: ${name} })`)
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
    await db.close()
  }
})

test('a clock that answers anything: each write succeeds or is refused with a typed error, and the log always reopens', async () => {
  for (const [name, make] of VALUES) {
    const db = new MemoryLevel<string, string>()
    const value = make()
    const cs = await ChangeSources.open({ db, now: () => value as number })
    const outcome = await outcomeOf(() => cs.findChangeSourceId('a'))
    assertTyped(outcome, `a clock answering ${name}:`)
    const view = await componentView(cs, [1], 2)
    const log = await replayed(cs)
    if (outcome.kind === 'resolved') {
      for (const record of log) assert.ok(Number.isFinite(record.timestamp), `a clock answering ${name} stamped ${String(record.timestamp)}`)
    } else assert.is(cs.head, 0, `a clock answering ${name}: refused, yet written`)
    await cs.close()
    const again = await ChangeSources.open({ db }).catch((error: Error) => assert.unreachable(`a clock answering ${name} left a log that does not reopen: ${error.message}`))
    assert.equal(await componentView(again!, [1], 2), view, `a clock answering ${name}: the reopen differs`)
    assert.equal(await replayed(again!), log, `a clock answering ${name}: the replay differs`)
    await again!.close()
    await db.close()
  }
})

test('regression: a revoked Proxy as the filter is an InvalidArgumentError, not a TypeError from Array.isArray', async () => {
  const { db, cs } = await fixture()
  const error = (await cs.getChangeSources(revokedProxy() as never).catch((caught: unknown) => caught)) as { code?: string }
  assert.is(error.code, 'CHANGESOURCES_INVALID_ARGUMENT')
  await cs.close()
  await db.close()
})

test('regression: a db option whose getters throw is an InvalidArgumentError naming options.db', async () => {
  for (const db of [hostileProxy, revokedProxy(), { get open() { return throwing() } }]) {
    const error = (await ChangeSources.open({ db } as never).catch((caught: unknown) => caught)) as { code?: string; argument?: string }
    assert.is(error.code, 'CHANGESOURCES_INVALID_ARGUMENT')
    assert.is(error.argument, 'options.db')
  }
})

test.run()
