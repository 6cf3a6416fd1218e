#!/usr/bin/env node
// `kubectl smh translate` end to end on a fleet (issue 11): N clusters × S services as `kubectl get -o json`
// snapshots (bench/fleet.js), one VirtualMesh per mode plus a failover and a shift per cluster, translated to one
// JSON List. Measured against the floor of the same run's I/O: JSON.parse of every input plus JSON.stringify of the
// output (a child process doing only that). CPU time (user + system) besides wall time, as the machine may be busy;
// peak RSS from /usr/bin/time when it is there. Never asserts.
//   node bench/cli.js [CLUSTERS] [SERVICES]     (default 12 300)
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const TIME = '/usr/bin/time'

function measured(args) {
  const useTime = existsSync(TIME)
  const start = process.hrtime.bigint()
  const r = spawnSync(useTime ? TIME : process.execPath, useTime ? ['-f', 'RUSAGE %U %S %M', process.execPath, ...args] : args, {cwd: root, encoding: 'utf8', maxBuffer: 1 << 30})
  const wall = Number(process.hrtime.bigint() - start) / 1e9
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`)
  const m = /RUSAGE ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr)
  return {wall, cpu: m ? Number(m[1]) + Number(m[2]) : undefined, rssMB: m ? Number(m[3]) / 1024 : undefined, stdout: r.stdout}
}

// The floor: read and JSON.parse every input, JSON.stringify the output as -o json prints it.
const FLOOR = `
const fs = require('node:fs')
const [out, ...inputs] = process.argv.slice(1)
for (const f of inputs) JSON.parse(fs.readFileSync(f, 'utf8'))
const list = JSON.parse(fs.readFileSync(out, 'utf8'))
const t = JSON.stringify(list, null, 2)
fs.writeFileSync('/dev/null', t)
`

export function benchCli(clusters = 12, services = 300) {
  const dir = mkdtempSync(join(tmpdir(), 'smh-fleet-'))
  try {
    execFileSync(process.execPath, [join(root, 'bench', 'fleet.js'), dir, String(clusters), String(services)], {stdio: 'ignore'})
    const snapshots = readdirSync(dir).filter((f) => f.startsWith('fleet-')).sort()
    const inputMB = snapshots.reduce((n, f) => n + Number(execFileSync('stat', ['-c', '%s', join(dir, f)], {encoding: 'utf8'})), 0) / 1e6
    console.log(`translate end to end: ${clusters} clusters × ${services} services (${snapshots.length} JSON snapshots, ${inputMB.toFixed(1)} MB), -o json`)
    console.log('mode         objects   out MB   wall s   cpu s   peak RSS MB   floor cpu s (JSON.parse in + JSON.stringify out)   ratio cpu')
    const rows = []
    for (const mode of ['permissive', 'on-demand']) {
      const smh = join(dir, `smh-${mode}.json`)
      const args = ['bin/run.js', 'translate', '-f', smh, ...snapshots.flatMap((f) => ['--snapshot', `${f.replace(/\.json$/, '')}=${join(dir, f)}`]), '-o', 'json']
      const cli = measured(args)
      const out = join(dir, `out-${mode}.json`)
      execFileSync('sh', ['-c', 'cat > "$0"', out], {input: cli.stdout})
      const objects = JSON.parse(cli.stdout).items.length
      const floor = measured(['-e', FLOOR, out, smh, ...snapshots.map((f) => join(dir, f))])
      const row = {mode, objects, outMB: cli.stdout.length / 1e6, wall: cli.wall, cpu: cli.cpu, rssMB: cli.rssMB, floorCpu: floor.cpu ?? floor.wall, ratio: (cli.cpu ?? cli.wall) / (floor.cpu ?? floor.wall)}
      rows.push(row)
      console.log([mode.padEnd(10), String(objects).padStart(9), row.outMB.toFixed(1).padStart(8), row.wall.toFixed(2).padStart(8), (row.cpu ?? NaN).toFixed(2).padStart(7), (row.rssMB ?? NaN).toFixed(0).padStart(13), row.floorCpu.toFixed(2).padStart(49), row.ratio.toFixed(2).padStart(11)].join(' '))
    }
    return rows
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [clusters = '12', services = '300'] = process.argv.slice(2)
  benchCli(Number(clusters), Number(services))
}
