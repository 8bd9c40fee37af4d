// Who may write a database. A folder is locked by a lock of the component's own, which no refused
// open anywhere in the process can drop (LevelDB's LOCK is a POSIX record lock: closing any
// descriptor of the file drops it), and is known by its device and inode, not by its path. One
// database object (or sublevel key space) has at most one component writing it in a process.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, symlink, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, InvalidArgumentError, LocationLockedError, isChangeSourcesError } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'

const run = promisify(execFile)
const CHILD = new URL('./helpers/open-child.ts', import.meta.url).pathname

/** Opens `location` in another process and registers `name` there: its id, or the error code. */
async function openElsewhere(location: string, name: string): Promise<{ id?: number; code?: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, location, name])
  return JSON.parse(stdout.trim()) as { id?: number; code?: string }
}

const test = suite<{ folder: string }>('locking', { folder: '' })
test.before.each(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-lock-'))
})
test.after.each(async (context) => {
  await rm(context.folder, { recursive: true, force: true })
})

test('a refused second open of a held folder leaves the lock in place for other processes', async ({ folder }) => {
  const location = join(folder, 'db')
  const cs = await ChangeSources.open({ location })
  assert.is(await cs.findChangeSourceId('first'), 1)
  // A Level made anywhere in the process opens itself, is refused by LevelDB, and closes its
  // descriptor of LOCK: LevelDB's lock of the folder is gone from then on.
  const stray = new Level(location)
  const refused = await ChangeSources.open({ db: stray }).then(
    () => undefined,
    (error: unknown) => error,
  )
  assert.ok(isChangeSourcesError(refused, ErrorCode.locked), `the second open is refused as locked: ${String(refused)}`)
  assert.is((refused as LocationLockedError).heldBy, 'this-process')
  assert.equal(await openElsewhere(location, 'second'), { code: ErrorCode.locked }, 'another process is still refused')
  assert.is(await cs.findChangeSourceId('third'), 2, 'the holder goes on writing, and no id was given twice')
  await cs.close()
  assert.equal(await openElsewhere(location, 'second'), { id: 3 }, 'after close, another process opens it')
})

test('another process is refused while the folder is held, with CHANGESOURCES_LOCKED', async ({ folder }) => {
  const location = join(folder, 'db')
  const cs = await ChangeSources.open({ location })
  assert.equal(await openElsewhere(location, 'x'), { code: ErrorCode.locked })
  await cs.close()
})

test('two paths to one folder (a symlink), opened at the same moment before it exists: one opens, the other is LOCKED', async ({ folder }) => {
  await mkdir(join(folder, 'real'))
  await symlink(join(folder, 'real'), join(folder, 'link'))
  const outcomes = await Promise.allSettled([
    ChangeSources.open({ location: join(folder, 'real', 'db') }),
    ChangeSources.open({ location: join(folder, 'link', 'db') }),
  ])
  const opened = outcomes.filter((outcome) => outcome.status === 'fulfilled')
  const refused = outcomes.filter((outcome) => outcome.status === 'rejected')
  assert.is(opened.length, 1, 'exactly one opens')
  assert.is(refused.length, 1)
  const error = (refused[0] as PromiseRejectedResult).reason as LocationLockedError
  assert.is(error.code, ErrorCode.locked)
  assert.is(error.heldBy, 'this-process')
  await (opened[0] as PromiseFulfilledResult<ChangeSources>).value.close()
})

test('a relative and an absolute path to one folder are one folder', async ({ folder }) => {
  const location = join(folder, 'db')
  const cs = await ChangeSources.open({ location })
  const relative = join(folder, '.', 'db', '..', 'db')
  await rejectsWith(() => ChangeSources.open({ location: relative }), ErrorCode.locked, LocationLockedError)
  await cs.close()
})

test('a second component on one database object is refused, and the first goes on', async () => {
  const db = new MemoryLevel<string, string>()
  const first = await ChangeSources.open({ db })
  assert.is(await first.findChangeSourceId('a'), 1)
  const error = await rejectsWith(() => ChangeSources.open({ db }), ErrorCode.locked, LocationLockedError)
  assert.is(error.heldBy, 'this-process')
  assert.is(await first.findChangeSourceId('b'), 2)
  await first.close()
  const second = await ChangeSources.open({ db })
  assert.equal((await second.getChangeSources()).map((source) => source.name), ['a', 'b'], 'once the first closed, a second opens it')
  await second.close()
})

test('sublevels: one key space, one component; two key spaces, two components', async () => {
  const db = new MemoryLevel<string, string>()
  const first = await ChangeSources.open({ db: db.sublevel('one') })
  await rejectsWith(() => ChangeSources.open({ db: db.sublevel('one') }), ErrorCode.locked, LocationLockedError)
  const other = await ChangeSources.open({ db: db.sublevel('two') })
  assert.is(await first.findChangeSourceId('a'), 1)
  assert.is(await other.findChangeSourceId('b'), 1, 'each key space is a log of its own')
  await first.close()
  await other.close()
})

test('an audit given something that is not a database, or one that will not open, gets a typed error', async ({ folder }) => {
  await rejectsWith(() => AuditLog.open({ db: {} as never }), ErrorCode.invalidArgument, InvalidArgumentError)
  const location = join(folder, 'db')
  const cs = await ChangeSources.open({ location })
  // The folder is held: a Level of it will not open in this process.
  const error = await rejectsWith(() => AuditLog.open({ db: new Level(location) }), ErrorCode.locked, LocationLockedError)
  assert.is(error.heldBy, 'this-process')
  assert.equal(await openElsewhere(location, 'still'), { code: ErrorCode.locked }, 'and the holder keeps its lock')
  await cs.close()
})

test.run()
