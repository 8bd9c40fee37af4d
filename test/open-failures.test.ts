// An open that fails says why in its message, not only in `cause`: "Database failed to open" sends
// the reader to a debugger.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdtemp, rm, symlink, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources, ErrorCode, OpenFailedError } from '../src/index.js'
import { rejectsWith } from './helpers/assertions.js'

const test = suite<{ folder: string }>('open failures', { folder: '' })
test.before.each(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-openfail-'))
})
test.after.each(async (context) => {
  await rm(context.folder, { recursive: true, force: true })
})

test('a path that is a file', async ({ folder }) => {
  await writeFile(join(folder, 'file'), 'not a database')
  const error = await rejectsWith(() => ChangeSources.open({ location: join(folder, 'file') }), ErrorCode.openFailed, OpenFailedError)
  assert.match(error.message, /not a folder|ENOTDIR|file is in the way|EEXIST/)
})

test('a path under a file', async ({ folder }) => {
  await writeFile(join(folder, 'file'), 'not a database')
  const error = await rejectsWith(() => ChangeSources.open({ location: join(folder, 'file', 'db') }), ErrorCode.openFailed, OpenFailedError)
  assert.match(error.message, /ENOTDIR/)
})

test('a symlink loop', async ({ folder }) => {
  await symlink(join(folder, 'b'), join(folder, 'a'))
  await symlink(join(folder, 'a'), join(folder, 'b'))
  const error = await rejectsWith(() => ChangeSources.open({ location: join(folder, 'a') }), ErrorCode.openFailed, OpenFailedError)
  assert.match(error.message, /ELOOP|symlink loop/)
})

// Root may write anywhere a mode forbids; only a read-only mount stops it.
const canMountReadOnly = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'changesources-ro-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
})()

if (canMountReadOnly) {
  test('a read-only filesystem', async ({ folder }) => {
    const mounted = join(folder, 'ro')
    await mkdir(mounted)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mounted], { stdio: 'ignore' })
    try {
      const error = await rejectsWith(() => ChangeSources.open({ location: join(mounted, 'db') }), ErrorCode.openFailed, OpenFailedError)
      assert.match(error.message, /read-only file system \(EROFS\)/)
    } finally {
      execFileSync('umount', ['--lazy', mounted], { stdio: 'ignore' })
    }
  })
} else {
  test.skip('a read-only filesystem (skipped: this process may not mount one)', () => {})
}

test.run()
