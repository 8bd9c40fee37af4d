/**
 * A child process that appends to a log on PostgreSQL as a master would, for the CLI tests: opens
 * the component, registers each name and claims it for master 7, prints `done <head>`, and closes.
 *
 *   node --import tsx test/helpers/postgres-appender.ts <url> <schema> <name>...
 */
import { ChangeSources } from '../../src/index.js'

const [connectionString, schema, ...names] = process.argv.slice(2)
const cs = await ChangeSources.open({ postgres: { connectionString: connectionString!, schema: schema! } })
for (const name of names) await cs.setChangeSourceMaster(await cs.findChangeSourceId(name), 7)
process.stdout.write(`done ${await cs.catchUp()}\n`)
await cs.close()
