// The docs are a contract too: docs/errors.md has one row per error code (no more, no fewer), each
// naming the class that carries the code, and docs/api.md names every value the package exports.
import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as api from '../src/index.js'
import { ChangeSourcesError, ErrorCode } from '../src/index.js'

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

/** The rows of the first table in docs/errors.md: its code and class columns, without backticks. */
function errorRows(): Array<{ code: string; className: string }> {
  const lines = read('docs/errors.md').split('\n')
  const header = lines.findIndex((line) => /^\|\s*code\s*\|\s*class\s*\|/.test(line))
  assert.ok(header >= 0, 'docs/errors.md has a table whose columns start with code and class')
  const rows: Array<{ code: string; className: string }> = []
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break
    const [code, className] = line.split('|').slice(1, 3).map((cell) => cell.trim().replaceAll('`', ''))
    rows.push({ code: code!, className: className! })
  }
  return rows
}

test('docs/errors.md has a row for every code in ErrorCode, and no row for any other', () => {
  const documented = errorRows().map((row) => row.code)
  assert.is(new Set(documented).size, documented.length, 'each code has one row')
  assert.equal([...documented].sort(), Object.values(ErrorCode).sort())
})

test("each row's class is exported, is one of ours, and raises that row's code", () => {
  const exports = api as unknown as Record<string, unknown>
  const codeOf = new Map<unknown, string>()
  // The code each class raises, read from the class's own source rather than restated here.
  const source = read('src/errors.ts')
  for (const match of source.matchAll(/export class (\w+) extends ChangeSourcesError \{[\s\S]*?ErrorCode\.(\w+)/g)) {
    codeOf.set(match[1], ErrorCode[match[2] as keyof typeof ErrorCode])
  }
  for (const { code, className } of errorRows()) {
    const errorClass = exports[className]
    assert.type(errorClass, 'function', `${className} is exported`)
    assert.ok((errorClass as { prototype: unknown }).prototype instanceof ChangeSourcesError, `${className} is a ChangeSourcesError`)
    assert.is(codeOf.get(className), code, `${className} raises ${code}`)
  }
})

test('docs/api.md or docs/errors.md names every value the package exports', () => {
  const docs = read('docs/api.md') + read('docs/errors.md')
  for (const name of Object.keys(api)) assert.match(docs, new RegExp(`\\b${name}\\b`), `${name} is documented`)
})

test.run()
