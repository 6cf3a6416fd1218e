#!/usr/bin/env node
// `npm run --silent oracle -- --cluster NAME --snapshot FILE --config FILE... --proxy NS/POD`: runs the cached oracle
// binary (test/env/build-tools.sh oracle builds it first, see package.json) with the given arguments.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = execFileSync('bash', [join(root, 'test/env/build-tools.sh'), 'oracle-path'], {encoding: 'utf8'}).trim()
if (!existsSync(bin)) {
  console.error(`oracle: ${bin} is not built: run bash test/env/build-tools.sh oracle`)
  process.exit(2)
}
const r = spawnSync(bin, process.argv.slice(2), {stdio: 'inherit'})
process.exit(r.status ?? 2)
