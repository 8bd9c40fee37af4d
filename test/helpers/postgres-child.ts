/**
 * A child process of test/postgres-server.test.ts, one of:
 *   node --import tsx test/helpers/postgres-child.ts insert <url> <name>
 *     reads a seq per stdin line, INSERTs (seq, name) into table `race` and prints `<seq> won`
 *     or `<seq> <SQLSTATE>`.
 *   node --import tsx test/helpers/postgres-child.ts listen <url> <channel>
 *     LISTENs, prints `listening`, then prints the payload of each notification.
 *   node --import tsx test/helpers/postgres-child.ts start <root>
 *     starts a throwaway server under <root>, prints its info as JSON, and waits to be killed.
 */
import { createInterface } from 'node:readline'
import pg from 'pg'
import { startPostgresServer } from './postgres-server.js'

const [mode, target, name] = process.argv.slice(2)
const print = (line: string): void => void process.stdout.write(line + '\n')

if (mode === 'insert') {
  const client = new pg.Client({ connectionString: target })
  await client.connect()
  for await (const line of createInterface({ input: process.stdin })) {
    const seq = Number(line)
    try {
      await client.query('INSERT INTO race (seq, value) VALUES ($1, $2)', [seq, name])
      print(`${seq} won`)
    } catch (error) {
      print(`${seq} ${(error as { code?: string }).code ?? String(error)}`)
    }
  }
  await client.end()
} else if (mode === 'listen') {
  const client = new pg.Client({ connectionString: target })
  await client.connect()
  client.on('notification', (message) => print(message.payload ?? ''))
  await client.query(`LISTEN ${name}`)
  print('listening')
} else if (mode === 'start') {
  const server = await startPostgresServer({ root: target! })
  print(JSON.stringify(server.info))
  setInterval(() => {}, 60_000)
} else {
  throw new Error(`unknown mode ${mode}`)
}
