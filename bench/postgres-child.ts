/**
 * One process of the PostgreSQL section's multi-process measurements (postgres-processes.ts spawns
 * it). Every mode prints `ready` once set up, waits for `go` on stdin, works, and prints its result
 * as one JSON line (or, for the receivers, a JSON line per message received) before it exits.
 * Times are process.hrtime (CLOCK_MONOTONIC, one clock for every process of the machine), in µs.
 *
 *   ours-cluster <url> <schema> <name> <callers> <warmMs> <ms>   callers in flight on the process's own change sources
 *   raw-race <url> <table> <rows> <warmMs> <ms>                  batches of rows at the head it expects, as our store appends
 *   raw-free <url> <table> <rows> <warmMs> <ms>                  batches of rows with keys the server assigns: no head
 *   ours-append <url> <schema> <count> <gapMs>                   claims and releases, one at a time, a pause between
 *   ours-watch <url> <schema>                                    prints `{seq, at}` for each record of changes$
 *   raw-notify <url> <channel> <count> <gapMs>                   pg_notify, one at a time, a pause between
 *   raw-listen <url> <channel>                                   prints `{seq, at}` for each notification
 *
 * The cluster modes work for warmMs after `go` before they measure for ms: every process of a run
 * warms up at once, under the contention it is measured in, and its JIT compiles before the window.
 */
import { createInterface } from 'node:readline'
import pg from 'pg'
import { ChangeSources } from '../src/index.js'
import { PostgresLogStore } from '../src/stores/postgres/postgres-log-store.js'
import { CountingStore } from './counting-store.js'
import { quantile, rawValue, sleep } from './util.js'

/** Messages sent before `ready` in the latency modes, unmeasured; the receiver is ready before the sender starts. */
const WARM_MESSAGES = 100

const [mode, url, target, ...rest] = process.argv.slice(2) as [string, string, string, ...string[]]
const print = (value: unknown): void => void process.stdout.write(JSON.stringify(value) + '\n')
const nowUs = (): number => Number(process.hrtime.bigint()) / 1000

const stdin = createInterface({ input: process.stdin })
const go = new Promise<void>((resolve) => stdin.on('line', (line) => line === 'go' && resolve()))
const ready = async (): Promise<void> => {
  process.stdout.write('ready\n')
  await go
}

if (mode === 'ours-cluster') {
  const [name, callers, warmMs, ms] = [rest[0]!, Number(rest[1]), Number(rest[2]), Number(rest[3])]
  const store = new CountingStore(await PostgresLogStore.open({ connectionString: url, schema: target }, { sync: true }))
  const cs = await ChangeSources.open({ store })
  const ids = await Promise.all(Array.from({ length: callers }, (_, index) => cs.findChangeSourceId(`${name}-${index}`)))
  // Warm up: a claim and a release of each.
  await Promise.all(ids.map(async (id) => (await cs.setChangeSourceMaster(id, 1), await cs.setChangeSourceMaster(id, null))))
  await ready()
  const measureFrom = nowUs() + warmMs * 1000
  const deadline = measureFrom + ms * 1000
  let before = { appends: 0, lost: 0, appended: 0, at: 0 }
  const measuring = new Promise<void>((resolve) =>
    setTimeout(() => {
      before = { appends: store.appends, lost: store.lost, appended: store.appended, at: nowUs() }
      resolve()
    }, warmMs),
  )
  const latencies: number[] = []
  // Calls refused with AppendConflictError (their batch lost the race for the head too many times in a row).
  let conflicts = 0
  await Promise.all(
    ids.map(async (id) => {
      let claimed = false
      while (nowUs() < deadline) {
        const t = nowUs()
        try {
          await cs.setChangeSourceMaster(id, claimed ? null : 1)
          claimed = !claimed
          if (t >= measureFrom) latencies.push(nowUs() - t)
        } catch (error) {
          if ((error as { code?: string }).code !== 'CHANGESOURCES_APPEND_CONFLICT') throw error
          if (t >= measureFrom) conflicts += 1
        }
      }
    }),
  )
  await measuring
  const us = nowUs() - before.at
  print({
    records: store.appended - before.appended,
    us,
    appends: store.appends - before.appends,
    lost: store.lost - before.lost,
    conflicts,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  })
  await cs.close()
  await store.close()
} else if (mode === 'raw-race' || mode === 'raw-free') {
  const [rows, warmMs, ms] = [Number(rest[0]), Number(rest[1]), Number(rest[2])]
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const values = Array.from({ length: rows }, (_, row) => rawValue(row + 1))
  let head = Number((await client.query<{ head: string }>(`SELECT coalesce(max(seq), 0) AS head FROM ${target}`)).rows[0]!.head)
  // The statement of PostgresLogStore.append without its notification: the rows go in only at the
  // head expected; a loser learns the head and tries again.
  const race = async (): Promise<boolean> => {
    try {
      const result = await client.query<{ inserted: number }>(
        `WITH written AS (
           INSERT INTO ${target} (seq, value) SELECT seq, value FROM unnest($1::bigint[], $2::text[]) AS entry(seq, value)
           WHERE (SELECT coalesce(max(seq), 0) FROM ${target}) = $3 RETURNING seq)
         SELECT count(*)::int AS inserted FROM written`,
        [values.map((_, row) => head + row + 1), values, head],
      )
      if (result.rows[0]!.inserted === rows) {
        head += rows
        return true
      }
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error
    }
    head = Number((await client.query<{ head: string }>(`SELECT coalesce(max(seq), 0) AS head FROM ${target}`)).rows[0]!.head)
    return false
  }
  const free = async (): Promise<boolean> => {
    await client.query(`INSERT INTO ${target} (value) SELECT * FROM unnest($1::text[])`, [values])
    return true
  }
  const append = mode === 'raw-race' ? race : free
  for (let warm = 0; warm < 10; warm++) await append()
  await ready()
  const warmUntil = nowUs() + warmMs * 1000
  while (nowUs() < warmUntil) await append()
  let appends = 0
  let lost = 0
  const start = nowUs()
  const deadline = start + ms * 1000
  while (nowUs() < deadline) {
    appends += 1
    if (!(await append())) lost += 1
  }
  print({ records: (appends - lost) * rows, us: nowUs() - start, appends, lost, conflicts: 0 })
  await client.end()
} else if (mode === 'ours-append') {
  const [count, gapMs] = [Number(rest[0]), Number(rest[1])]
  const cs = await ChangeSources.open({ postgres: { connectionString: url, schema: target } })
  const id = await cs.findChangeSourceId('poller:latency')
  // Warm up (JIT) the writer here and the catch-up in the receiver, unmeasured: it sees these too.
  for (let index = 0; index < WARM_MESSAGES; index++) await cs.setChangeSourceMaster(id, index % 2 === 0 ? 1 : null)
  await ready()
  const sent: Array<{ seq: number; start: number; acknowledged: number }> = []
  for (let index = WARM_MESSAGES; index < WARM_MESSAGES + count; index++) {
    await sleep(gapMs)
    const start = nowUs()
    await cs.setChangeSourceMaster(id, index % 2 === 0 ? 1 : null)
    sent.push({ seq: cs.head, start, acknowledged: nowUs() })
  }
  print(sent)
  await cs.close()
} else if (mode === 'ours-watch') {
  const cs = await ChangeSources.open({ postgres: { connectionString: url, schema: target } })
  cs.changes$.subscribe((record) => print({ seq: record.seq, at: nowUs() }))
  await ready()
  // Runs until the parent ends it (stdin closed).
  await new Promise<void>((resolve) => stdin.on('close', resolve))
  await cs.close()
} else if (mode === 'raw-notify') {
  const [count, gapMs] = [Number(rest[0]), Number(rest[1])]
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  for (let seq = -WARM_MESSAGES; seq < 0; seq++) await client.query('SELECT pg_notify($1, $2)', [target, String(seq)])
  await ready()
  const sent: Array<{ seq: number; start: number; acknowledged: number }> = []
  for (let seq = 1; seq <= count; seq++) {
    await sleep(gapMs)
    const start = nowUs()
    await client.query('SELECT pg_notify($1, $2)', [target, String(seq)])
    sent.push({ seq, start, acknowledged: nowUs() })
  }
  print(sent)
  await client.end()
} else if (mode === 'raw-listen') {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  client.on('notification', (message) => print({ seq: Number(message.payload), at: nowUs() }))
  await client.query(`LISTEN "${target}"`)
  await ready()
  await new Promise<void>((resolve) => stdin.on('close', resolve))
  await client.end()
} else {
  throw new Error(`unknown mode ${mode}`)
}
stdin.close()
