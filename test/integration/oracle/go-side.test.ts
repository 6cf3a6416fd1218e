// The oracle's Go-side unit tests (test/oracle/oracle_test.go), with the cached build's flags so that `go test`
// reuses its build cache (seconds once `test/env/build-tools.sh oracle` has run).
import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {expect, it} from 'vitest'

it('go test in test/oracle passes', async () => {
  const dir = fileURLToPath(new URL('../../oracle/', import.meta.url))
  const out = await new Promise<{code: number; output: string}>((resolve) => {
    execFile('go', ['test', '-trimpath', '-vet=off', '.'], {cwd: dir, env: {...process.env, CGO_ENABLED: '0'}}, (err, stdout, stderr) =>
      resolve({code: err ? ((err.code as number) ?? 1) : 0, output: stdout + stderr}))
  })
  expect(out.code, out.output).toBe(0)
}, 600_000)
