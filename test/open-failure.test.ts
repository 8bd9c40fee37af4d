// describeOpenFailure: the reason an open failed, taken from LevelDB's wrapped error or a file-system code.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { describeOpenFailure } from '../src/stores/level/open-failure.js'

const test = suite('describeOpenFailure')

test("LevelDB's generic message gives way to the reason in its cause", () => {
  const wrapped = new Error('Database failed to open', { cause: new Error('IO error: /x/db/LOCK: Read-only file system') })
  assert.is(describeOpenFailure('/x/db', wrapped), '/x/db could not be opened: IO error: /x/db/LOCK: Read-only file system')
})

test('a file-system code anywhere in the chain is said in words', () => {
  const error = new Error('Database failed to open', { cause: Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' }) })
  assert.match(describeOpenFailure('/x/db', error), /^\/x\/db could not be opened: permission denied \(EACCES\)$/)
  assert.match(describeOpenFailure('/x/db', Object.assign(new Error('ELOOP'), { code: 'ELOOP' })), /symlink loop/)
})

test('with nothing better, the message itself; never a throw for odd values', () => {
  assert.is(describeOpenFailure('/x', new Error('Database failed to open')), '/x could not be opened: Database failed to open')
  assert.is(describeOpenFailure('/x', 'boom'), '/x could not be opened: boom')
  assert.is(describeOpenFailure('/x', null), '/x could not be opened: null')
})

test.run()
