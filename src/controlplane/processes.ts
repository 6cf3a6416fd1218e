import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync} from 'node:fs'
import {createServer} from 'node:net'

/** A free TCP port on loopback (the kernel picks it; we release it just before the process binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export interface Started {
  name: string
  pid: number
  logFile: string
  child: ChildProcess
}

/** Attached processes still running: killed when this process exits, so a test run leaves none behind. */
const killedAtExit = new Set<number>()
let exitHookInstalled = false

function killAtExit(pid: number): void {
  killedAtExit.add(pid)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const p of killedAtExit) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {}
    }
  })
}

/**
 * Starts a binary with stdout and stderr appended to a log file. Detached processes get their own process group
 * so they outlive the command that started them (`demo up`) and can be stopped as a group; attached ones are
 * killed when this process exits.
 */
export function startProcess(name: string, binary: string, args: string[], logFile: string, detached: boolean): Started {
  const fd = openSync(logFile, 'a')
  const child = spawn(binary, args, {detached, stdio: ['ignore', fd, fd]})
  closeSync(fd)
  if (detached) child.unref()
  if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`)
  if (!detached) {
    killAtExit(child.pid)
    child.once('exit', () => killedAtExit.delete(child.pid!))
  }
  return {name, pid: child.pid, logFile, child}
}

export function logTail(logFile: string, lines = 15): string {
  if (!existsSync(logFile)) return '(no log)'
  const all = readFileSync(logFile, 'utf8').trimEnd().split('\n')
  return all.slice(-lines).join('\n')
}

/** Whether pid runs. A zombie (dead, not yet reaped by a parent that is not us) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  return processState(pid) !== 'Z'
}

/** The one-letter state of /proc/<pid>/stat (R, S, Z, …), or undefined where /proc does not tell. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/** Sends signal and resolves when the process is gone (SIGKILL: at once, as a crash would). */
export async function killProcess(pid: number, signal: NodeJS.Signals): Promise<void> {
  if (!isAlive(pid)) return
  if (signal !== 'SIGKILL') return stopProcess(pid)
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  while (isAlive(pid)) await sleep(20)
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return
    await sleep(50)
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  while (isAlive(pid)) await sleep(20)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
