// Restart, and who may open a location: the state survives close and reopen, a location is open once.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode, LocationLockedError } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend } from './helpers/backends.js'

onEachBackend('restart', (test) => {
  test('close and reopen: the same ids, names and claims; registration continues the sequence', async ({ store }) => {
    const first = await store.open()
    for (const name of ['a', 'b', 'c']) await first.findChangeSourceId(name)
    await first.setChangeSourceMaster(1, 13)
    await first.setChangeSourceMaster(3, 14)
    await first.setChangeSourceMaster(3, null)
    await first.setChangeSourceMaster(2, 14)
    const before = await first.getChangeSources()
    const head = first.head
    await first.close()

    const second = await store.open()
    assert.equal(await second.getChangeSources(), before)
    assert.is(second.head, head)
    assert.is(await second.findChangeSourceId('b'), 2)
    assert.is(await second.findChangeSourceId('d'), 4)
    assert.is(await second.trySetChangeSourceMaster(1, 14), false)
  })

  test('close waits for the writes in flight', async ({ store }) => {
    const cs = await store.open()
    const writes = Array.from({ length: 30 }, (_, index) => cs.findChangeSourceId(`cs${index}`))
    await cs.close()
    assert.is((await Promise.all(writes)).length, 30)
    const reopened = await store.open()
    assert.is((await reopened.getChangeSources()).length, 30)
  })

  test('every method after close rejects with CHANGESOURCES_CLOSED', async ({ store }) => {
    const cs = await store.open()
    await cs.findChangeSourceId('a')
    await cs.close()
    await cs.close()
    await rejectsWith(() => cs.findChangeSourceId('a'), ErrorCode.closed)
    await rejectsWith(() => cs.setChangeSourceMaster(1, 1), ErrorCode.closed)
    await rejectsWith(() => cs.trySetChangeSourceMaster(1, 1), ErrorCode.closed)
    await rejectsWith(() => cs.getChangeSource(1), ErrorCode.closed)
    await rejectsWith(() => cs.getChangeSources(), ErrorCode.closed)
    await rejectsWith(() => cs.masterDeactivated(1), ErrorCode.closed)
    await rejectsWith(() => cs.watch(), ErrorCode.closed)
  })
})

async function withFolder(run: (location: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'changesources-lock-'))
  try {
    await run(join(folder, 'db'))
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

/** Runs a child that opens `location` and holds it until told to stop; resolves once it holds it. */
function holdInChild(location: string): Promise<{ stop: () => Promise<string> }> {
  const script = `
    import { ChangeSources } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)}
    try {
      const cs = await ChangeSources.open({ location: ${JSON.stringify(location)} })
      console.log('open')
      process.stdin.on('data', async () => { await cs.close(); process.exit(0) })
    } catch (error) { console.log(error.code); process.exit(0) }
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  let output = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (data) => {
      output += data
      if (output.includes('\n')) {
        resolve({
          stop: async () => {
            child.stdin.write('stop\n')
            await exited
            return output.trim()
          },
        })
      }
    })
    child.on('exit', () => reject(new Error(`child exited: ${output}`)))
  })
}

test('a location open in this process cannot be opened again in it, and the first keeps its lock', async () => {
  await withFolder(async (location) => {
    const first = await ChangeSources.open({ location })
    await first.findChangeSourceId('a')
    const error = await rejectsWith(() => ChangeSources.open({ location: `${location}/../db` }), ErrorCode.locked, LocationLockedError)
    assert.is(error.heldBy, 'this-process')
    assert.match(error.message, location)
    // The refused open did not touch LevelDB: another process still finds the location locked.
    const child = await holdInChild(location)
    assert.is(await child.stop(), ErrorCode.locked)
    assert.is(await first.findChangeSourceId('b'), 2)
    await first.close()
    const reopened = await ChangeSources.open({ location })
    assert.is(reopened.head, 2)
    await reopened.close()
  })
})

test('a location open in another process is refused with CHANGESOURCES_LOCKED, LevelDB error as cause', async () => {
  await withFolder(async (location) => {
    const child = await holdInChild(location)
    const error = await rejectsWith(() => ChangeSources.open({ location }), ErrorCode.locked, LocationLockedError)
    assert.is(error.heldBy, 'another-process')
    assert.is((error.cause as { cause?: { code?: string } }).cause?.code, 'LEVEL_LOCKED')
    assert.is(await child.stop(), 'open')
    // The failed open gave the location back: it opens now that the other process is gone.
    const cs = await ChangeSources.open({ location })
    await cs.close()
  })
})

test.run()
