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

/**
 * Starts a binary with stdout and stderr into a log file. Detached processes get their own process group so
 * they outlive the command that started them (`demo up`) and can be stopped as a group.
 */
export function startProcess(name: string, binary: string, args: string[], logFile: string, detached: boolean): Started {
  const fd = openSync(logFile, 'a')
  const child = spawn(binary, args, {detached, stdio: ['ignore', fd, fd]})
  closeSync(fd)
  if (detached) child.unref()
  if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`)
  return {name, pid: child.pid, logFile, child}
}

export function logTail(logFile: string, lines = 15): string {
  if (!existsSync(logFile)) return '(no log)'
  const all = readFileSync(logFile, 'utf8').trimEnd().split('\n')
  return all.slice(-lines).join('\n')
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
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
