import {chmodSync, existsSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {startControlPlanes} from '../../src/controlplane/control-plane.js'

describe('the starter when an API server dies', () => {
  it('fails with the tail of that server\'s log and leaves nothing running', async () => {
    // The real etcd, and in place of kube-apiserver a program that fails the way a bad flag makes it fail.
    const bin = mkdtempSync(join(tmpdir(), 'smh-bin-'))
    symlinkSync(binaryPath('etcd'), join(bin, 'etcd'))
    writeFileSync(join(bin, 'kube-apiserver'), '#!/bin/sh\necho "I1125 starting"\necho "E1125 run.go:72] \\"command failed\\" err=\\"boom: no such flag\\"" >&2\nexit 1\n')
    chmodSync(join(bin, 'kube-apiserver'), 0o755)
    const dir = mkdtempSync(join(tmpdir(), 'smh-fail-'))
    const previous = process.env.KUBECTL_SMH_BIN_DIR
    process.env.KUBECTL_SMH_BIN_DIR = bin
    try {
      const error = await startControlPlanes({clusters: ['kind1'], dir}).then(() => undefined, (e: Error) => e)
      expect(error?.message).toMatch(/^kube-apiserver kind1 exited \(code 1\) before it was ready; the end of .*kind1\.log:/)
      expect(error?.message).toContain('err="boom: no such flag"')
    } finally {
      if (previous === undefined) delete process.env.KUBECTL_SMH_BIN_DIR
      else process.env.KUBECTL_SMH_BIN_DIR = previous
    }
    // etcd, started first, was stopped again (the [d] keeps pgrep from matching its own shell).
    const etcdLog = join(dir, 'logs', 'etcd.log')
    expect(existsSync(etcdLog)).toBe(true)
    const {execFileSync} = await import('node:child_process')
    const etcdPids = execFileSync('sh', ['-c', `pgrep -f "[d]ata-dir=${join(dir, 'etcd')}" || true`], {encoding: 'utf8'}).trim()
    expect(etcdPids).toBe('')
  })

  it('says how to get a binary that is missing', async () => {
    const previous = process.env.KUBECTL_SMH_BIN_DIR
    process.env.KUBECTL_SMH_BIN_DIR = mkdtempSync(join(tmpdir(), 'smh-empty-'))
    try {
      const error = await startControlPlanes({clusters: ['kind1'], dir: mkdtempSync(join(tmpdir(), 'smh-fail-'))}).then(() => undefined, (e: Error) => e)
      expect(error?.message).toMatch(/^etcd not found at .*: put etcd into KUBECTL_SMH_BIN_DIR=.*, or unset it to use the built ones$/)
    } finally {
      if (previous === undefined) delete process.env.KUBECTL_SMH_BIN_DIR
      else process.env.KUBECTL_SMH_BIN_DIR = previous
    }
  })
})
