// `changesources import` (issue 11): it builds the database in a folder of its own and moves it into
// place only where nothing is, so it never deletes or alters what it did not create — a headless
// database (CURRENT lost), a folder holding anything, or a folder that appears while it runs.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { CLI, runCli, type CliRun } from './helpers/cli-run.js'

const test = suite<{ folder: string; location: string; lines: string[] }>('changesources import', { folder: '', location: '', lines: [] })

test.before.each(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-import-'))
  context.location = join(context.folder, 'db')
  const cs = await ChangeSources.open({ location: context.location })
  for (const name of ['a', 'b', 'c']) await cs.setChangeSourceMaster(await cs.findChangeSourceId(name), 1)
  await cs.close()
  const exported = await runCli(['export', context.location])
  assert.is(exported.code, 0, exported.stderr)
  context.lines = exported.stdout.trim().split('\n')
})

test.after.each(async ({ folder }) => {
  await rm(folder, { recursive: true, force: true })
})

/** Every file under `folder`, by name, with its bytes: to see that nothing was changed. */
async function contents(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files[join(entry.parentPath, entry.name)] = (await readFile(join(entry.parentPath, entry.name))).toString('base64')
  }
  return files
}

function assertRefused(result: CliRun, code: number, pattern: RegExp): void {
  assert.is(result.code, code, `exit status; stderr: ${result.stderr}`)
  assert.is(result.stderr.trim().split('\n').length, 1, `one line on stderr: ${result.stderr}`)
  assert.match(result.stderr, pattern)
}

/** Nothing of an import is left next to its target. */
async function assertNoLeftovers(folder: string, expected: string[]): Promise<void> {
  assert.equal((await readdir(folder)).sort(), expected.sort(), 'no temporary folder left behind')
}

test('a headless database (CURRENT lost) is refused and left byte-identical', async ({ folder, location, lines }) => {
  await unlink(join(location, 'CURRENT'))
  const before = await contents(location)
  assertRefused(await runCli(['import', location], { input: lines.join('\n') }), 2, /not empty/)
  assert.equal(await contents(location), before, 'no file was created, changed or deleted')
  await assertNoLeftovers(folder, ['db'])
})

test('a folder holding anything is refused and left as it was; an empty folder is used', async ({ folder, lines }) => {
  const notes = join(folder, 'notes')
  await mkdir(notes)
  await writeFile(join(notes, 'keep.txt'), 'mine')
  assertRefused(await runCli(['import', notes], { input: lines.join('\n') }), 2, /not empty/)
  assert.equal(await readdir(notes), ['keep.txt'])
  const file = join(folder, 'a-file')
  await writeFile(file, 'mine')
  assertRefused(await runCli(['import', file], { input: lines.join('\n') }), 2, /not a folder|not empty/)
  assert.is(await readFile(file, 'utf8'), 'mine')
  const empty = join(folder, 'empty')
  await mkdir(empty)
  const imported = await runCli(['import', empty], { input: lines.join('\n') })
  assert.is(imported.code, 0, imported.stderr)
  assert.is(JSON.parse((await runCli(['verify', empty, '--json'])).stdout).length, lines.length)
  await assertNoLeftovers(folder, ['db', 'notes', 'a-file', 'empty'])
})

/**
 * Starts an import of `first` into `target`, waits until the import has made something in the
 * parent folder, lets `meanwhile` run, then sends `rest` and ends stdin.
 */
async function importWithInterlude(target: string, first: string, rest: string, meanwhile: () => Promise<void>): Promise<CliRun> {
  const parent = join(target, '..')
  const before = new Set(await readdir(parent))
  const child = spawn(process.execPath, [CLI, 'import', target], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (data) => (stdout += data))
  child.stderr.on('data', (data) => (stderr += data))
  const closed = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  child.stdin.write(first + '\n')
  while ((await readdir(parent)).every((name) => before.has(name))) await new Promise((resolve) => setTimeout(resolve, 10))
  await meanwhile()
  child.stdin.end(rest)
  return closed
}

test('a folder that another party creates while the import runs is never deleted or altered', async ({ folder, lines }) => {
  const target = join(folder, 'target')
  const theirs = async (): Promise<void> => {
    await mkdir(target, { recursive: true })
    await writeFile(join(target, 'theirs.txt'), 'not yours')
  }
  // A refused import (a broken chain) must not remove the folder it believes it made.
  const broken = await importWithInterlude(target, lines[0]!, [lines[2]!].join('\n'), theirs)
  assertRefused(broken, 1, /seq 2.*missing/)
  assert.equal(await readdir(target), ['theirs.txt'], 'their folder is still there, as it was')
  await assertNoLeftovers(folder, ['db', 'target'])
  // A whole import must not move in beside their file either.
  await rm(target, { recursive: true })
  const whole = await importWithInterlude(target, lines[0]!, lines.slice(1).join('\n'), theirs)
  assertRefused(whole, 2, /not empty/)
  assert.equal(await readdir(target), ['theirs.txt'])
  await assertNoLeftovers(folder, ['db', 'target'])
})

test('a refused import leaves nothing; a missing parent folder is made', async ({ folder, lines }) => {
  const target = join(folder, 'new', 'deeper', 'db')
  assertRefused(await runCli(['import', target], { input: [lines[0], lines[2]].join('\n') }), 1, /seq 2/)
  assert.not.ok(existsSync(target))
  const imported = await runCli(['import', target], { input: lines.join('\n') })
  assert.is(imported.code, 0, imported.stderr)
  assert.equal(await readdir(join(folder, 'new', 'deeper')), ['db'])
})

test('a line that is JSON but not a record object is named as such, not as invalid JSON', async ({ folder, lines }) => {
  for (const [line, what] of [
    ['null', /null.*not a record object/],
    ['[1,2]', /array.*not a record object/],
    ['42', /number.*not a record object/],
    ['"seq"', /string.*not a record object/],
  ] as const) {
    const result = await runCli(['import', join(folder, 'out')], { input: [lines[0], line].join('\n') })
    assertRefused(result, 1, what)
    assert.match(result.stderr, /seq 2/)
    assert.not.match(result.stderr, /not valid JSON/)
  }
  assertRefused(await runCli(['import', join(folder, 'out')], { input: '{"seq":' }), 1, /seq 1.*not valid JSON/)
  await assertNoLeftovers(folder, ['db'])
})

test.run()
