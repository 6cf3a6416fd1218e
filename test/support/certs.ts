import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * `openssl verify` of a mesh's `cacerts` (decoded) against a root: the intermediate, with the chain as untrusted
 * certificates. On files only this user can read, in a folder removed right after.
 */
export function opensslVerify(rootPem: string, cacerts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'smh-verify-'))
  try {
    const file = (name: string, content: string) => {
      const path = join(dir, name)
      writeFileSync(path, content, {mode: 0o600})
      return path
    }
    const root = file('root.pem', rootPem)
    const chain = file('chain.pem', cacerts['cert-chain.pem'])
    const cert = file('ca-cert.pem', cacerts['ca-cert.pem'])
    return execFileSync('openssl', ['verify', '-CAfile', root, '-untrusted', chain, cert], {encoding: 'utf8'}).trim()
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
