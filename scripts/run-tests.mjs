#!/usr/bin/env node
// Runs the whole suite: build (the package test imports the compiled package), type-check, then
// uvu over test/**/*.test.ts. Ends with the line CI reads: "N passed, M failed".
// A throwaway PostgreSQL server (test/helpers/postgres-server.ts) starts alongside the build and is
// removed at the end, also on failure or SIGINT/SIGTERM; see docs/testing.md.
import { spawn } from 'node:child_process'
import { tsImport } from 'tsx/esm/api'

let child
let interrupted

function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env })
    let output = ''
    child.stdout.on('data', (data) => {
      process.stdout.write(data)
      output += data
    })
    child.on('close', (code, signal) => resolve({ code: code ?? 1, signal, output }))
  })
}

/** Resolves to the environment the tests get, a teardown, and the reason when no server started. */
async function startPostgres() {
  if (process.env.CHANGESOURCES_TEST_POSTGRES_URL) {
    return { env: {}, teardown: async () => {}, failure: undefined }
  }
  try {
    const { startPostgresServer } = await tsImport('../test/helpers/postgres-server.ts', import.meta.url)
    const started = performance.now()
    const server = await startPostgresServer()
    console.log(`postgres: server started in ${Math.round(performance.now() - started)} ms on port ${server.info.port}`)
    return {
      env: { CHANGESOURCES_TEST_POSTGRES_SERVER: JSON.stringify(server.info) },
      teardown: () => server.destroy(),
      failure: undefined,
    }
  } catch (error) {
    const failure = error instanceof Error ? error.message : String(error)
    return { env: { CHANGESOURCES_TEST_POSTGRES_UNAVAILABLE: failure }, teardown: async () => {}, failure }
  }
}

const postgres = startPostgres()
let tornDown
const teardown = () => (tornDown ??= postgres.then((started) => started.teardown()))

async function finish(line, exitCode) {
  await teardown()
  console.log(line)
  process.exit(exitCode)
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return
    interrupted = signal
    child?.kill(signal)
    void finish(`\ninterrupted by ${signal}\n0 passed, 1 failed`, signal === 'SIGINT' ? 130 : 143)
  })
}

const steps = [
  ['build', 'npx', ['tsc', '-p', 'tsconfig.build.json']],
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
]
for (const [name, command, args] of steps) {
  const { code } = await run(command, args)
  if (interrupted) await new Promise(() => {})
  if (code !== 0) await finish(`\n${name} failed\n0 passed, 1 failed`, 1)
}

const { env, failure } = await postgres
if (failure) console.log(`\npostgres: the test server did not start, so the PostgreSQL tests fail: ${failure}\n`)
const { code, signal, output } = await run(
  process.execPath,
  ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', '\\.test\\.ts$', '--no-color'],
  { ...process.env, ...env },
)
if (interrupted) await new Promise(() => {})
const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
const count = (label) => Number(plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN)
const total = count('Total')
const passed = count('Passed')
const skipped = count('Skipped')
if (Number.isNaN(total) || Number.isNaN(passed)) {
  await finish(`\nthe test runner stopped before its summary (exit ${code}${signal ? `, ${signal}` : ''})\n0 passed, 1 failed`, 1)
}
// A server that did not start is one failure of its own, beside the tests that needed it.
const failed = Math.max(total - passed - (skipped || 0), code === 0 ? 0 : 1) + (failure ? 1 : 0)
await finish(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`, code === 0 && failed === 0 ? 0 : 1)
