// What an audit does to a folder (issue 11): nothing. AuditLog.open, which the command uses, reads a
// private copy, so LevelDB's recovery of a damaged write-ahead log — which deletes the damaged block
// and the old `.log` file — happens to the copy, and the evidence stays. And why an open failed is
// said in the message, not only in `cause`.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, isChangeSourcesError } from '../src/index.js'
import { runCli } from './helpers/cli-run.js'
import { folderContents } from './helpers/folder-contents.js'

const test = suite<{ folder: string; location: string }>('an audit does not change the folder', { folder: '', location: '' })

test.before.each(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-audit-folder-'))
  context.location = join(context.folder, 'db')
  const cs = await ChangeSources.open({ location: context.location })
  for (let index = 0; index < 30; index++) await cs.setChangeSourceMaster(await cs.findChangeSourceId(`source-${index}`), 1 + (index % 3))
  await cs.close()
  // A reopen moves the write-ahead log into a table; these records stay in a new write-ahead log.
  const more = await ChangeSources.open({ location: context.location })
  for (let index = 30; index < 40; index++) await more.findChangeSourceId(`source-${index}`)
  await more.close()
})

test.after.each(async ({ folder }) => {
  await rm(folder, { recursive: true, force: true })
})

/** Flips bytes in the middle of the newest `.log` file, as test/damaged-log.test.ts does. */
async function damageWriteAheadLog(location: string): Promise<string> {
  const log = (await readdir(location)).filter((name) => name.endsWith('.log')).sort().at(-1)!
  const path = join(location, log)
  const bytes = await readFile(path)
  assert.ok(bytes.length > 100, 'the write-ahead log holds records')
  for (let k = 0; k < 8; k++) bytes[Math.floor(bytes.length * (0.3 + k * 0.05))]! ^= 0x5a
  await writeFile(path, bytes)
  return log
}

test('verify (the command, with and without --copy) and AuditLog.open leave a damaged write-ahead log byte-identical', async ({ location }) => {
  const log = await damageWriteAheadLog(location)
  const before = await folderContents(location)
  for (const args of [['verify', location], ['verify', location, '--copy'], ['state', location, '--json'], ['export', location]]) {
    const result = await runCli(args)
    assert.ok(result.code === 0 || result.code === 1, `${args.join(' ')}: exit ${result.code}: ${result.stderr}`)
    assert.equal(await folderContents(location), before, `${args.join(' ')} changed the folder`)
  }
  const audit = await AuditLog.open({ location })
  await audit.verify()
  await audit.close()
  assert.equal(await folderContents(location), before, 'AuditLog changed the folder')
  assert.ok(Object.keys(before).includes(log), 'the damaged .log is still there')
})

test('an audit of a whole folder finds what ChangeSources wrote, and changes nothing either', async ({ location }) => {
  const before = await folderContents(location)
  const audit = await AuditLog.open({ location })
  assert.is(audit.head, 70)
  assert.ok((await audit.verify()).ok)
  await audit.close()
  assert.equal(await folderContents(location), before)
})

test('an audit holds the folder: ChangeSources.open in another process is refused as locked while it runs', async ({ location }) => {
  const audit = await AuditLog.open({ location })
  try {
    const result = await runCli(['state', location])
    assert.is(result.code, 2, result.stderr)
    assert.match(result.stderr, /locked/)
  } finally {
    await audit.close()
  }
  assert.is((await runCli(['state', location])).code, 0, 'free again after close()')
})

/** The open's error: typed, and its message says why. */
async function openError(location: string): Promise<{ code: string; message: string }> {
  return AuditLog.open({ location }).then(
    async (log) => {
      await log.close()
      return assert.unreachable('opened') as never
    },
    (error: unknown) => {
      assert.ok(isChangeSourcesError(error), `typed: ${String(error)}`)
      return error as { code: string; message: string }
    },
  )
}

test('open errors say the reason: a path that is a file, a symlink loop', async ({ folder }) => {
  const file = join(folder, 'a-file')
  await writeFile(file, 'not a database')
  const notFolder = await openError(file)
  assert.is(notFolder.code, ErrorCode.openFailed)
  assert.match(notFolder.message, /not a folder/)
  const loop = join(folder, 'loop')
  await symlink(loop, loop)
  const looped = await openError(loop)
  assert.is(looped.code, ErrorCode.openFailed)
  assert.match(looped.message, /symlink loop/)
  for (const error of [notFolder, looped]) assert.not.match(error.message, /Database failed to open/)
  const missing = await openError(join(folder, 'nothing'))
  assert.is(missing.code, ErrorCode.notFound)
})

test('a read-only folder is audited: nothing is written to it', async ({ location }) => {
  const mode = (await stat(location)).mode
  await chmod(location, 0o555)
  try {
    const audit = await AuditLog.open({ location })
    assert.is(audit.head, 70)
    await audit.close()
  } finally {
    await chmod(location, mode)
  }
})

// Root reads any folder: run as root, the audit is made by a child process with the uid of nobody.
const asRoot = process.getuid?.() === 0
const NOBODY = 65534
const DIST = join(import.meta.dirname, '..', 'dist', 'index.js')

/** The error of AuditLog.open(location) made by a process of user nobody (the compiled package). */
function openErrorAsNobody(location: string): { code: string; message: string } {
  const script = `import(${JSON.stringify(DIST)}).then(({ AuditLog }) => AuditLog.open({ location: ${JSON.stringify(location)} }))
    .then(() => console.log(JSON.stringify({ code: 'opened', message: '' })), (error) => console.log(JSON.stringify({ code: error.code, message: error.message })))`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', cwd: '/' })
  assert.is(child.status, 0, `the child ran: ${child.stderr}`)
  return JSON.parse(child.stdout.trim()) as { code: string; message: string }
}

test('an unreadable folder says permission denied', async ({ folder }) => {
  const unreadable = join(folder, 'unreadable')
  await mkdir(unreadable, { mode: 0o000 })
  let denied: { code: string; message: string }
  if (asRoot) {
    // nobody must reach the folder to be refused by it, not by the folders above it.
    await chmod(folder, 0o755)
    denied = openErrorAsNobody(unreadable)
  } else {
    denied = await openError(unreadable)
  }
  assert.is(denied.code, ErrorCode.openFailed)
  assert.match(denied.message, /permission denied/)
})

test.run()
