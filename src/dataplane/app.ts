/**
 * The pod's application: a small Node HTTP server on the pod's container port that answers JSON with who it is
 * (cluster, pod, version; bookinfo's reviews say their stars: v1 none, v2 black, v3 red). A mode file controls it,
 * for `demo fail`/`heal`: `ok` answers 200, `fail` answers 503, `stop` closes the port (connection refused).
 * The server is one file written into the data plane's folder and started inside the pod's namespace.
 */
import {renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export type AppMode = 'ok' | 'fail' | 'stop'

export interface AppIdentity {
  cluster: string
  namespace: string
  pod: string
  app: string
  version: string
}

/** What a reviews pod of each version says, as bookinfo's reviews do. */
export function starsOf(app: string, version: string): string | undefined {
  if (app !== 'reviews') return undefined
  return {v1: 'no stars', v2: 'black stars', v3: 'red stars'}[version]
}

export const APP_FILE = 'app.mjs'

/** The server's source: plain ESM JavaScript, no dependencies. Arguments: port, mode file, identity JSON. */
export const APP_SOURCE = `// kubectl smh demo data plane: a pod's app (written by src/dataplane/app.ts)
import {createServer} from 'node:http'
import {readFileSync} from 'node:fs'

const [port, modeFile, identityJson] = process.argv.slice(2)
const identity = JSON.parse(identityJson)
const mode = () => { try { return readFileSync(modeFile, 'utf8').trim() } catch { return 'ok' } }
let listening = false
const server = createServer((req, res) => {
  req.resume()
  const failing = mode() === 'fail'
  const body = JSON.stringify({...identity, path: req.url, ...(failing ? {error: 'failing on purpose (kubectl smh demo fail)'} : {})})
  res.writeHead(failing ? 503 : 200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
  res.end(body)
})
server.keepAliveTimeout = 1000
const listen = () => { listening = true; server.listen(Number(port), '0.0.0.0') }
const close = () => { listening = false; server.close(); server.closeAllConnections() }
listen()
setInterval(() => {
  const stop = mode() === 'stop'
  if (stop && listening) close()
  else if (!stop && !listening) listen()
}, 100)
process.on('SIGTERM', () => process.exit(0))
`

/** Writes the server's file into dir (once per data plane) and returns its path. */
export function writeAppFile(dir: string): string {
  const file = join(dir, APP_FILE)
  writeFileSync(file, APP_SOURCE)
  return file
}

export function writeAppMode(modeFile: string, mode: AppMode): void {
  // Through a rename: the server never reads half a file.
  writeFileSync(`${modeFile}.tmp`, `${mode}\n`)
  renameSync(`${modeFile}.tmp`, modeFile)
}

/** The app's command line inside the pod's namespace. */
export function appCommand(netns: string, appFile: string, port: number, modeFile: string, identity: AppIdentity): {command: string; args: string[]} {
  const body = {...identity, ...(starsOf(identity.app, identity.version) ? {stars: starsOf(identity.app, identity.version)} : {})}
  return {command: 'ip', args: ['netns', 'exec', netns, process.execPath, appFile, String(port), modeFile, JSON.stringify(body)]}
}
