/**
 * The child process of test/crash.test.ts: opens the component on a LevelDB location and writes
 * forever — registrations, claims, try-claims, releases, deactivations — one command at a time.
 * Before each command it prints {"op": …}; once the command settles it prints {"answer": …}. The
 * parent kills it with SIGKILL at a random moment. Writes to a pipe are synchronous on Linux, so a
 * printed line reaches the parent even if the process dies right after.
 *
 *   node --import tsx test/helpers/crash-writer.ts <location> <seed> <sync: true|false> <snapshotEvery>
 *
 * With a small snapshotEvery, snapshots are being encoded and stored in the background at most
 * moments of a kill.
 */
import { ChangeSources } from '../../src/index.js'
import { issue } from './drive.js'
import type { Op } from './model.js'

const [location, seedText, syncText, snapshotEveryText] = process.argv.slice(2)
let state = Number(seedText) >>> 0
const random = (): number => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
const pick = (n: number): number => Math.floor(random() * n)

const cs = await ChangeSources.open({ location: location!, sync: syncText !== 'false', snapshotEvery: Number(snapshotEveryText ?? 10_000) })
let known = (await cs.getChangeSources()).length
process.stdout.write(JSON.stringify({ ready: cs.head }) + '\n')

for (let index = 0; ; index++) {
  const roll = random()
  let op: Op
  if (known === 0 || roll < 0.25) op = { op: 'register', name: random() < 0.7 ? `cs-${seedText}-${index}` : `cs-${pick(5)}` }
  else if (roll < 0.55) op = { op: 'claim', id: 1 + pick(known), master: 1 + pick(4) }
  else if (roll < 0.7) op = { op: 'tryClaim', id: 1 + pick(known), master: 1 + pick(4) }
  else if (roll < 0.9) op = { op: 'release', id: 1 + pick(known) }
  else op = { op: 'deactivate', master: 1 + pick(4) }
  process.stdout.write(JSON.stringify({ op }) + '\n')
  const answer = await issue(cs, op)
  if (op.op === 'register' && 'ok' in answer) known = Math.max(known, answer.ok as number)
  process.stdout.write(JSON.stringify({ answer }) + '\n')
}
