/**
 * The raw `pg` baselines of the PostgreSQL section, on the same server and in the same run as our
 * figures: a table shaped as the log's (seq bigint primary key, value text) and values of the
 * log's size (util.ts), each statement committed on its own with the server's default
 * synchronous_commit (on), as our durable appends are.
 */
import pg from 'pg'
import type { Rate } from './baselines.js'
import { dropSchema, schemaName, withClient } from './postgres-server.js'
import { nowNs, quantile, rawValue, settle, usSince } from './util.js'

/** Statements made, unmeasured, before the measured ones (ours are warmed alike). */
export const PG_WARM_CALLS = 200

/** A client on a fresh schema holding one empty table `raw` of the log's shape; dropped afterwards. */
async function withRawTable<T>(url: string, body: (client: pg.Client, table: string) => Promise<T>): Promise<T> {
  const schema = schemaName('raw')
  const table = `"${schema}".raw`
  await withClient(url, async (client) => {
    await client.query(`CREATE SCHEMA "${schema}"`)
    await client.query(`CREATE TABLE ${table} (seq bigint PRIMARY KEY, value text NOT NULL)`)
  })
  try {
    return await withClient(url, (client) => body(client, table))
  } finally {
    await dropSchema(url, schema)
  }
}

/** One run: single-row INSERTs, each awaited (and so committed) before the next. */
export async function rawSingleInserts(url: string, count: number): Promise<Rate> {
  return withRawTable(url, async (client, table) => {
    const insert = (seq: number) => client.query(`INSERT INTO ${table} (seq, value) VALUES ($1, $2)`, [seq, rawValue(seq)])
    for (let seq = 1; seq <= PG_WARM_CALLS; seq++) await insert(seq)
    await settle()
    const latencies = new Float64Array(count)
    const start = nowNs()
    for (let index = 0; index < count; index++) {
      const t = nowNs()
      await insert(PG_WARM_CALLS + 1 + index)
      latencies[index] = usSince(t)
    }
    return rate(count, usSince(start), latencies)
  })
}

/** One run: multi-row INSERTs of `rows` rows (`VALUES ($1, $2), …`), one statement after another. */
export async function rawMultiRowInserts(url: string, rows: number, statements: number): Promise<Rate> {
  return withRawTable(url, async (client, table) => {
    const text = `INSERT INTO ${table} (seq, value) VALUES ${Array.from({ length: rows }, (_, row) => `($${2 * row + 1}, $${2 * row + 2})`).join(', ')}`
    let seq = 0
    const insert = () => {
      const values: Array<number | string> = []
      for (let row = 0; row < rows; row++) {
        seq += 1
        values.push(seq, rawValue(seq))
      }
      return client.query(text, values)
    }
    for (let warm = 0; warm < 20; warm++) await insert()
    await settle()
    const latencies = new Float64Array(statements)
    const start = nowNs()
    for (let index = 0; index < statements; index++) {
      const t = nowNs()
      await insert()
      latencies[index] = usSince(t)
    }
    return rate(rows * statements, usSince(start), latencies)
  })
}

function rate(records: number, us: number, latencies: Float64Array): Rate {
  const all = Array.from(latencies)
  return { perSecond: (records / us) * 1e6, usPerOp: us / records, p50: quantile(all, 0.5), p99: quantile(all, 0.99) }
}
