// How the command ends when its reader goes away or a signal arrives (issue 11): as a Unix tool
// does, silently — 141 (128 + SIGPIPE) for a closed pipe, 128 + the signal for SIGINT / SIGTERM,
// or 0 when it was done first — never a stack trace, and never a temporary copy left behind (the
// child's TMPDIR is a fresh folder that must be empty afterwards) or a change to the folder.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { runCli, type CliRun } from './helpers/cli-run.js'
import { runs } from './helpers/long.js'
import { folderContents } from './helpers/folder-contents.js'

const EXIT_PIPE = 141
const EXIT_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const

const test = suite<{ folder: string; location: string }>('changesources exits', { folder: '', location: '' })

test.before(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-exits-'))
  context.location = join(context.folder, 'db')
  // Output well past a pipe's buffer (64 KiB) for every reading command, so that an early reader meets a write.
  const cs = await ChangeSources.open({ location: context.location, sync: false })
  const ids = await Promise.all(Array.from({ length: 1500 }, (_, index) => cs.findChangeSourceId(`poller:acme/project-${index}`)))
  await Promise.all(ids.map((id) => cs.setChangeSourceMaster(id, 1 + (id % 7))))
  await cs.masterDeactivated(3)
  await cs.close()
})

test.after(async ({ folder }) => {
  await rm(folder, { recursive: true, force: true })
})

const COMMANDS = [
  ['state'],
  ['state', '--json'],
  ['history', '--records'],
  ['history', '--json'],
  ['export'],
  ['verify'],
  ['verify', '--json'],
] as const

type Interference = { kind: 'reader-leaves'; afterBytes: number } | { kind: 'signal'; name: 'SIGINT' | 'SIGTERM'; afterMs: number }

function assertExit(result: CliRun, interference: Interference, label: string): void {
  assert.not.match(result.stderr, /\n\s+at /, `${label}: no stack trace: ${result.stderr}`)
  if (interference.kind === 'reader-leaves') {
    assert.is(result.stderr, '', `${label}: silent`)
    assert.ok(result.code === 0 || result.code === EXIT_PIPE, `${label}: exit ${result.code} (${result.signal})`)
  } else {
    // A signal that comes before Node has started the command ends it by the default action.
    const byDefault = result.code === null && result.signal === interference.name
    assert.ok(byDefault || result.code === 0 || result.code === EXIT_SIGNAL[interference.name], `${label}: exit ${result.code} (${result.signal}); ${result.stderr}`)
    if (!byDefault && result.code !== 0) assert.is(result.stderr, '', `${label}: silent`)
  }
}

test('an early reader or a signal, on every reading command with and without --copy: the documented exit, silence, nothing left', async ({ folder, location }) => {
  const before = await folderContents(location)
  const interference: fc.Arbitrary<Interference> = fc.oneof(
    fc.record({ kind: fc.constant('reader-leaves' as const), afterBytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 300_000 })) }),
    fc.record({ kind: fc.constant('signal' as const), name: fc.constantFrom('SIGINT' as const, 'SIGTERM' as const), afterMs: fc.integer({ min: 0, max: 600 }) }),
  )
  let round = 0
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...COMMANDS), fc.boolean(), interference, async (command, copy, what) => {
      const temporary = join(folder, `tmp-${round++}`)
      await import('node:fs/promises').then(({ mkdir }) => mkdir(temporary))
      const [name, ...flags] = command
      const args = [name, location, ...flags, ...(copy ? ['--copy'] : [])]
      const result = await runCli(args, {
        env: { ...process.env, TMPDIR: temporary },
        ...(what.kind === 'reader-leaves' ? { closeStdoutAfter: what.afterBytes } : { signal: { name: what.name, afterMs: what.afterMs } }),
      })
      const label = `${args.slice(0, 1).concat(args.slice(2)).join(' ')} with ${JSON.stringify(what)}`
      assertExit(result, what, label)
      assert.equal(await readdir(temporary), [], `${label}: the temporary folder is empty`)
      assert.equal((await readdir(folder)).filter((entry) => !entry.startsWith('tmp-')), ['db'], `${label}: nothing left beside the folder`)
      await rm(temporary, { recursive: true })
    }),
    {
      numRuns: runs(16, 300),
      includeErrorInReport: true,
      examples: [
        // `changesources state <location> | head -1`, and the same for history and export.
        [['state'], false, { kind: 'reader-leaves', afterBytes: 1 }],
        [['history', '--json'], true, { kind: 'reader-leaves', afterBytes: 1 }],
        [['export'], true, { kind: 'reader-leaves', afterBytes: 1 }],
        [['verify'], true, { kind: 'signal', name: 'SIGTERM', afterMs: 300 }],
      ],
    },
  )
  assert.equal(await folderContents(location), before, 'no command changed the folder')
})

test.run()
