// Crash tests: a child process (helpers/crash-writer.ts) writes on a LevelDB location and prints each
// command and each acknowledgement; the parent kills it with SIGKILL at random moments, many times in a
// row on the same location. After each kill: the location opens, every acknowledged change is there,
// at most the one command in flight differs (the writer here sends one command at a time; with group
// commit a whole unacknowledged batch may or may not be in the log: docs/reliability.md), the log replays (watch from 1) without error and agrees
// with the model, and ids continue without a gap in the next round.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { Level } from 'level'
import { restoreState } from '../src/engine/restore.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { componentView, replayed } from './helpers/drive.js'
import { LONG } from './helpers/long.js'
import { cloneModel, emptyModel, eventOf, modelView, step, type Model, type Op } from './helpers/model.js'

const WRITER = fileURLToPath(new URL('./helpers/crash-writer.ts', import.meta.url))
const MASTERS = [1, 2, 3, 4]

interface Round {
  readonly acknowledged: Array<{ op: Op; answer: unknown }>
  readonly inFlight: Op | undefined
  readonly signal: NodeJS.Signals | null
}

/** Runs the writer until `killAfter` acknowledgements (plus a random few ms), then SIGKILLs it. */
function runWriter(location: string, seed: number, sync: boolean, killAfter: number, random: () => number): Promise<Round> {
  return new Promise((resolve, reject) => {
    // Every other round snapshots every 5 records: killed mid-snapshot, the next open must still
    // start from a whole snapshot (or none) and the log.
    const snapshotEvery = seed % 2 === 0 ? 5 : 10_000
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, location, String(seed), String(sync), String(snapshotEvery)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (data) => (stderr += data))
    const acknowledged: Round['acknowledged'] = []
    let inFlight: Op | undefined
    let killing = false
    const kill = (): void => {
      if (killing) return
      killing = true
      const delay = random() * 3
      setTimeout(() => child.kill('SIGKILL'), delay)
    }
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { ready?: number; op?: Op; answer?: unknown }
      if (message.op !== undefined) inFlight = message.op
      else if (message.answer !== undefined) {
        acknowledged.push({ op: inFlight!, answer: message.answer })
        inFlight = undefined
      }
      if (acknowledged.length >= killAfter) kill()
    })
    // Done once the child is dead and every line it wrote has been read: a fast writer can be far
    // ahead of this reader, with a full pipe of acknowledgements still to come after its death.
    const read = new Promise<void>((resolve) => lines.on('close', resolve))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited on its own (${code}): ${stderr}`))
      else void read.then(() => resolve({ acknowledged, inFlight, signal }))
    })
  })
}

/** Whether the next open of `location` starts from a snapshot: open restores the head as restoreState does. */
async function opensFromSnapshot(location: string): Promise<boolean> {
  const db = new Level<string, string>(location)
  await db.open()
  try {
    return (await restoreState(await LevelLogStore.open(db, { sync: false }))).snapshot.used
  } finally {
    await db.close()
  }
}

async function checkAfterKill(location: string, model: Model, round: Round): Promise<Model> {
  for (const { op, answer } of round.acknowledged) {
    assert.equal(answer, JSON.parse(JSON.stringify(step(model, op))), `the acknowledged answer to ${JSON.stringify(op)}`)
  }
  const cs = await ChangeSources.open({ location })
  try {
    const maxId = model.names.length + 2
    const view = await componentView(cs, MASTERS, maxId)
    const log = await replayed(cs)
    assert.equal(log.map((record) => record.seq), log.map((_, index) => index + 1), 'seqs contiguous from 1')
    if (JSON.stringify(view) === JSON.stringify(modelView(model, MASTERS, maxId))) {
      assert.equal(log.map(eventOf), model.events, 'the log holds exactly the acknowledged changes')
      return model
    }
    // Otherwise the one command in flight took effect before the kill, and nothing else may differ.
    assert.ok(round.inFlight !== undefined, `the state differs from the acknowledged changes with no command in flight`)
    const withInFlight = cloneModel(model)
    step(withInFlight, round.inFlight!)
    assert.equal(view, modelView(withInFlight, MASTERS, maxId), `the state is the acknowledged one, plus at most ${JSON.stringify(round.inFlight)}`)
    assert.equal(log.map(eventOf), withInFlight.events, 'the log holds the acknowledged changes and the one in flight')
    return withInFlight
  } finally {
    await cs.close()
  }
}

function crashSuite(sync: boolean, rounds: number): void {
  const test = suite(`crash: SIGKILL at random moments (sync: ${sync})`)
  test(`${rounds} kills in a row on one location lose nothing acknowledged`, async () => {
    const seed = Number(process.env.CHANGESOURCES_CRASH_SEED ?? Date.now() % 1_000_000)
    let state = seed
    const random = (): number => ((state = (Math.imul(state, 48271) + 11) % 2147483647) & 0xffff) / 0x10000
    const folder = await mkdtemp(join(tmpdir(), 'changesources-crash-'))
    const location = join(folder, 'db')
    let model = emptyModel()
    let opensFromSnapshots = 0
    let acknowledged = 0
    let inFlightApplied = 0
    try {
      for (let round = 0; round < rounds; round++) {
        const killAfter = random() < 0.15 ? 0 : 1 + Math.floor(random() * 60)
        const outcome = await runWriter(location, seed * 1000 + round, sync, killAfter, random)
        acknowledged += outcome.acknowledged.length
        try {
          const before = model.events.length + outcome.acknowledged.length
          if (await opensFromSnapshot(location)) opensFromSnapshots++
          model = await checkAfterKill(location, model, outcome)
          if (model.events.length > before) inFlightApplied++
        } catch (error) {
          ;(error as Error).message = `[seed ${seed} (CHANGESOURCES_CRASH_SEED=${seed}), round ${round}] ${(error as Error).message}`
          throw error
        }
      }
      assert.ok(acknowledged > rounds, `the writer got through commands before its deaths (${acknowledged})`)
      assert.ok(opensFromSnapshots > 0, 'some opens after a kill started from a snapshot the writer left')
      assert.ok(model.names.length > 0, 'change sources were registered')
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
    if (process.env.CHANGESOURCES_DEBUG) console.log({ acknowledged, inFlightApplied, events: model.events.length })
  })
  test.run()
}

crashSuite(true, LONG ? 200 : 12)
crashSuite(false, LONG ? 100 : 6)
