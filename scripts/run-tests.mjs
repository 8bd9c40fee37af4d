#!/usr/bin/env node
// Runs the whole suite: build (the package test imports the compiled package), type-check, then
// uvu over test/**/*.test.ts. Ends with the line CI reads: "N passed, M failed".
import { spawn } from 'node:child_process'

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (data) => {
      process.stdout.write(data)
      output += data
    })
    child.on('close', (code, signal) => resolve({ code: code ?? 1, signal, output }))
  })
}

const steps = [
  ['build', 'npx', ['tsc', '-p', 'tsconfig.build.json']],
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
]
for (const [name, command, args] of steps) {
  const { code } = await run(command, args)
  if (code !== 0) {
    console.log(`\n${name} failed`)
    console.log('0 passed, 1 failed')
    process.exit(1)
  }
}

const { code, signal, output } = await run(process.execPath, [
  '--import',
  'tsx',
  'node_modules/uvu/bin.js',
  'test',
  '\\.test\\.ts$',
  '--no-color',
])
const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
const count = (label) => Number(plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN)
const total = count('Total')
const passed = count('Passed')
const skipped = count('Skipped')
if (Number.isNaN(total) || Number.isNaN(passed)) {
  console.log(`\nthe test runner stopped before its summary (exit ${code}${signal ? `, ${signal}` : ''})`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const failed = Math.max(total - passed - (skipped || 0), code === 0 ? 0 : 1)
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(code === 0 && failed === 0 ? 0 : 1)
