// Bad input from the new surface: a store that is not one, a store that hands back a malformed
// entry, a store whose head goes back. Each is a typed error, and nothing is lost or half-applied.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, CorruptLogError, ErrorCode, InvalidArgumentError, SharedMemoryStore, type LogStore } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'

const test = suite('bad stores')

/** A store that behaves like `inner`, with some members replaced. */
function tampered(inner: SharedMemoryStore, replaced: Partial<LogStore>): LogStore {
  return {
    writers: 'many',
    head: () => inner.head(),
    read: (range) => inner.read(range),
    append: (entries, expectedHead) => inner.append(entries, expectedHead),
    onAppended: (listener) => inner.onAppended(listener),
    writeSnapshot: (parts) => inner.writeSnapshot(parts),
    readSnapshot: (prefix) => inner.readSnapshot(prefix),
    close: async () => {},
    ...replaced,
  }
}

test('a store that is not one is refused at open, naming what it lacks', async () => {
  for (const store of [null, 42, {}, { writers: 'single' }, tampered(new SharedMemoryStore(), { writers: 'some' as 'many' })]) {
    const error = await rejectsWith(() => ChangeSources.open({ store: store as LogStore }), ErrorCode.invalidArgument, InvalidArgumentError)
    assert.is(error.argument, 'options.store')
  }
  const withoutListener = { ...tampered(new SharedMemoryStore(), {}), onAppended: undefined }
  const error = await rejectsWith(() => ChangeSources.open({ store: withoutListener }), ErrorCode.invalidArgument, InvalidArgumentError)
  assert.match(error.message, /onAppended/)
})

test("a malformed entry of another writer is a CorruptLogError for the batch that reads it; the state does not move", async () => {
  const shared = new SharedMemoryStore()
  const cs = await ChangeSources.open({ store: shared })
  assert.is(await cs.findChangeSourceId('a'), 1)
  // Another writer appends something that is not a record.
  await shared.append([{ seq: 2, value: '{"not":"a record"}' }], 1)
  const error = await rejectsWith(() => cs.findChangeSourceId('b'), ErrorCode.corruptLog, CorruptLogError)
  assert.is(error.seq, 2)
  assert.is(cs.head, 1, 'nothing of the bad entry was folded in')
  assert.equal((await cs.getChangeSources()).map((source) => source.name), ['a'])
  await cs.close()
})

test("a store whose head goes back is a CorruptLogError, and nothing is appended", async () => {
  const shared = new SharedMemoryStore()
  let lie = false
  const store = tampered(shared, {
    async append(entries, expectedHead) {
      if (lie) return { appended: false, head: expectedHead - 1 }
      return shared.append(entries, expectedHead)
    },
  })
  const cs = await ChangeSources.open({ store })
  await cs.findChangeSourceId('a')
  await cs.findChangeSourceId('b')
  lie = true
  await rejectsWith(() => cs.findChangeSourceId('c'), ErrorCode.corruptLog, CorruptLogError)
  assert.is(await shared.head(), 2, 'nothing appended')
  assert.is(cs.head, 2)
  await cs.close()
})

test.run()
