// The package as a sibling project sees it: `import { … } from 'changesources'` through its
// exports map, the compiled JavaScript and the .d.ts types (npm test builds dist/ first).
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

test('a sibling package imports the compiled package by name, with its types', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'changesources-consumer-'))
  try {
    await mkdir(join(folder, 'node_modules'))
    await symlink(root, join(folder, 'node_modules', 'changesources'), 'dir')
    await writeFile(join(folder, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', dependencies: { changesources: `file:${root}` } }))
    const program = `
      import { ChangeSources, ChangeSourceAlreadyClaimedError } from 'changesources'
      const cs = await ChangeSources.open({ location: ${JSON.stringify(join(folder, 'db'))} })
      const id = await cs.findChangeSourceId('poller')
      await cs.setChangeSourceMaster(id, 1)
      try { await cs.setChangeSourceMaster(id, 2) } catch (error) { console.log(error instanceof ChangeSourceAlreadyClaimedError, error.code) }
      await cs.close()
    `
    await writeFile(join(folder, 'main.mjs'), program)
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: folder })
    assert.is(stdout.trim(), 'true CHANGESOURCES_ALREADY_CLAIMED')

    await writeFile(join(folder, 'typed.ts'), `
      import { ChangeSources, type ChangeSource, type ChangeRecord } from 'changesources'
      const cs: ChangeSources = await ChangeSources.open({ location: './db' })
      const found: ChangeSource | null = await cs.getChangeSource(1)
      cs.changes$.subscribe((record: ChangeRecord) => record.seq)
      // @ts-expect-error: a name is a string
      await cs.findChangeSourceId(42)
      export { found }
    `)
    await writeFile(
      join(folder, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['typed.ts'] }),
    )
    const typeCheck = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', folder], { cwd: folder }).catch((error: { stdout: string }) => error)
    assert.is((typeCheck as { stdout: string }).stdout.trim(), '', 'tsc found errors in the consumer')
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
})

test.run()
