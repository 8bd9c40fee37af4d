// Bad input: a typed error naming the argument, and nothing changed.
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode, InvalidArgumentError, isChangeSourcesError, type ChangeSources as Component } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend } from './helpers/backends.js'
import { test } from 'uvu'

const notIds: Array<[string, unknown]> = [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-0', -0],
  ['2^53', 2 ** 53],
  ["'13'", '13'],
  ['13n', 13n],
  ['undefined', undefined],
  ['an object', { id: 1 }],
  ['a boxed number', Object(1)],
  ['a symbol', Symbol('id')],
]

const notNames: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 42],
  ['a boxed string', Object('name')],
  ['a lone high surrogate', 'poller\ud800'],
  ['a lone low surrogate', '\udc00poller'],
  ['65 537 bytes', 'x'.repeat(65537)],
  ['a huge string', 'y'.repeat(10_000_000)],
  ['an array', ['name']],
]

type Call = [method: string, argument: string, call: (cs: Component, value: unknown) => Promise<unknown>, values: Array<[string, unknown]>]

const calls: Call[] = [
  ['findChangeSourceId', 'name', (cs, value) => cs.findChangeSourceId(value as string), notNames],
  ['setChangeSourceMaster', 'changesourceid', (cs, value) => cs.setChangeSourceMaster(value as number, 1), [...notIds, ['null', null]]],
  ['setChangeSourceMaster', 'masterid', (cs, value) => cs.setChangeSourceMaster(1, value as number), notIds],
  ['trySetChangeSourceMaster', 'changesourceid', (cs, value) => cs.trySetChangeSourceMaster(value as number, 1), [...notIds, ['null', null]]],
  ['trySetChangeSourceMaster', 'masterid', (cs, value) => cs.trySetChangeSourceMaster(1, value as number), notIds],
  ['getChangeSource', 'changesourceid', (cs, value) => cs.getChangeSource(value as number), [...notIds, ['null', null]]],
  ['masterDeactivated', 'masterid', (cs, value) => cs.masterDeactivated(value as number), [...notIds, ['null', null]]],
  [
    'getChangeSources',
    'filter',
    (cs, value) => cs.getChangeSources(value as never),
    [
      ['null', null],
      ['a number', 1],
      ['a string', 'active'],
      ['an array', []],
    ],
  ],
  [
    'getChangeSources',
    'filter.active',
    (cs, value) => cs.getChangeSources({ active: value as boolean }),
    [
      ['1', 1],
      ["'true'", 'true'],
      ['null', null],
    ],
  ],
  ['getChangeSources', 'filter.masterid', (cs, value) => cs.getChangeSources({ masterid: value as number }), [...notIds.filter(([title]) => title !== 'undefined'), ['null', null]]],
  ['watch', 'options.from', async (cs, value) => cs.watch({ from: value as number }), notIds.filter(([title]) => title !== 'undefined')],
]

onEachBackend('invalid arguments', (test) => {
  test('every method refuses every bad value with CHANGESOURCES_INVALID_ARGUMENT naming the argument, changing nothing', async ({ store }) => {
    const cs = await store.open()
    await cs.findChangeSourceId('a')
    await cs.setChangeSourceMaster(1, 7)
    const before = { head: cs.head, all: await cs.getChangeSources() }
    for (const [method, argument, call, values] of calls) {
      for (const [title, value] of values) {
        const error = await rejectsWith(() => call(cs, value), ErrorCode.invalidArgument, InvalidArgumentError)
        assert.is(error.argument, argument, `${method}(${argument} = ${title})`)
        assert.match(error.message, argument)
      }
    }
    assert.is(cs.head, before.head)
    assert.equal(await cs.getChangeSources(), before.all)
  })

  test('a filter whose getter throws is an invalid argument with the cause', async ({ store }) => {
    const cs = await store.open()
    const filter = Object.defineProperty({}, 'active', {
      get() {
        throw new Error('boom')
      },
    })
    const error = await rejectsWith(() => cs.getChangeSources(filter), ErrorCode.invalidArgument, InvalidArgumentError)
    assert.is(error.argument, 'filter.active')
    assert.is((error.cause as Error).message, 'boom')
  })

  test('a filter without a prototype is read like any object', async ({ store }) => {
    const cs = await store.open()
    await cs.findChangeSourceId('a')
    const filter = Object.assign(Object.create(null), { active: false })
    assert.is((await cs.getChangeSources(filter)).length, 1)
  })
})

test('open refuses bad options with the option named, and opens nothing', async () => {
  const cases: Array<[unknown, string]> = [
    [undefined, 'options'],
    [null, 'options'],
    ['./data', 'options'],
    [{}, 'options'],
    [{ location: './x', db: {} }, 'options'],
    [{ location: '' }, 'options.location'],
    [{ location: 42 }, 'options.location'],
    [{ location: 'a\0b' }, 'options.location'],
    [{ db: { put() {} } }, 'options.db'],
    [{ location: './never-created', sync: 'yes' }, 'options.sync'],
    [{ location: './never-created', now: 5 }, 'options.now'],
  ]
  for (const [options, argument] of cases) {
    const error = await rejectsWith(() => ChangeSources.open(options as never), ErrorCode.invalidArgument, InvalidArgumentError)
    assert.is(error.argument, argument, JSON.stringify(options))
  }
  const { existsSync } = await import('node:fs')
  assert.not.ok(existsSync('./never-created'))
})

test('a clock that returns no finite number fails the batch with the cause, and the log stays readable', async () => {
  const { MemoryLevel } = await import('memory-level')
  const db = new MemoryLevel()
  let time: unknown = Number.NaN
  const cs = await ChangeSources.open({ db, now: () => time as number })
  const error = await rejectsWith(() => cs.findChangeSourceId('a'), ErrorCode.writeFailed)
  assert.is((error.cause as { code?: string }).code, ErrorCode.invalidArgument)
  assert.is(cs.head, 0)
  time = 1000
  assert.is(await cs.findChangeSourceId('a'), 1)
  await cs.close()
  const reopened = await ChangeSources.open({ db })
  assert.is((await reopened.getChangeSource(1))?.name, 'a')
  await reopened.close()
})

test('isChangeSourcesError recognises ours by code, also from another copy of the package', () => {
  assert.ok(isChangeSourcesError(new InvalidArgumentError('x', 'y', 1)))
  assert.ok(isChangeSourcesError(new InvalidArgumentError('x', 'y', 1), ErrorCode.invalidArgument))
  assert.not.ok(isChangeSourcesError(new InvalidArgumentError('x', 'y', 1), ErrorCode.closed))
  assert.ok(isChangeSourcesError({ code: 'CHANGESOURCES_CLOSED' }, ErrorCode.closed))
  assert.not.ok(isChangeSourcesError(new Error('x')))
  assert.not.ok(isChangeSourcesError({ code: 'LEVEL_LOCKED' }))
  assert.not.ok(isChangeSourcesError(null))
})

test('every error code is distinct and prefixed', () => {
  const codes = Object.values(ErrorCode)
  assert.is(new Set(codes).size, codes.length)
  for (const code of codes) assert.match(code, /^CHANGESOURCES_[A-Z_]+$/)
})

test.run()
