/**
 * Runs a program in a real pseudo-terminal and types into it as a person would: wait until the expected text is on
 * the screen, then press keys (arrow keys `\x1b[B`, enter `\r`, Ctrl-C `\x03`, text), one key at a time.
 *
 * Why Python's stdlib `pty` rather than util-linux `script -qfec "<cmd>" /dev/null`: both need no npm package, but
 * with `script` the child's exit status, the terminal size and the split of stdout from the screen are all at
 * script's mercy (its window size is 0x0 when its own stdin is a pipe, it forwards stdin EOF as ^D to the child,
 * and the command has to be one shell-quoted string). The driver below (about 40 lines of Python, passed with
 * `python3 -c`) opens the pty itself, sets a known window size (160x40) before the child starts, makes the pty the
 * child's controlling terminal (so Ctrl-C in cooked mode is a real SIGINT, and in raw mode the byte 0x03 that
 * inquirer reads), relays our keys byte for byte, exits with the child's own exit code (128+N after signal N, as a
 * shell reports it), and can give the child's stdout its own pipe (`stdout: 'pipe'`) while stdin and stderr stay on
 * the terminal: the `kubectl smh ... -o json > file` case, where the wizard draws on stderr and stdout stays data.
 *
 * The screen: everything the program wrote to the terminal, ANSI sequences stripped. inquirer redraws a prompt in
 * place with cursor moves, so the stripped text is the history of renders, not one frame; `waitFor` therefore looks
 * only at text written after the previous step's match, so an old render cannot satisfy a new wait.
 */
import {spawn} from 'node:child_process'
import type {Readable} from 'node:stream'

const DRIVER = String.raw`
import errno, fcntl, os, select, signal, struct, sys, termios
cols, rows, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
argv = sys.argv[4:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
pid = os.fork()
if pid == 0:
    os.close(master)
    os.login_tty(slave)
    if mode == 'pipe':
        os.dup2(3, 1)
        os.close(3)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ('cannot run %s: %s\n' % (argv[0], e)).encode())
        os._exit(127)
os.close(slave)
if mode == 'pipe':
    os.close(3)
def stop(*_):
    try: os.killpg(pid, signal.SIGKILL)
    except OSError: pass
    os._exit(137)
signal.signal(signal.SIGTERM, stop)
inputs = [master, 0]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if 0 in ready:
        data = os.read(0, 4096)
        if data: os.write(master, data)
        else: inputs.remove(0)
    if master in ready:
        try: data = os.read(master, 65536)
        except OSError as e:
            if e.errno != errno.EIO: raise
            data = b''
        if not data: break
        os.write(1, data)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
`

export const KEYS = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  space: ' ',
  tab: '\t',
  backspace: '\x7f',
  ctrlC: '\x03',
  ctrlU: '\x15',
} as const

export interface PtyStep {
  /** Wait until this appears on the screen (after what the previous step matched). */
  waitFor?: RegExp | string
  /** Then type this: a string is typed one key at a time (escape sequences kept whole); an array is a list of keys. */
  send?: string | string[]
}

export interface PtyOptions {
  /** Added to the environment (over process.env, with TERM=xterm-256color and CI unset: a person at a terminal). */
  env?: NodeJS.ProcessEnv
  cwd?: string
  steps?: PtyStep[]
  /** 'pty' (default): stdout on the terminal too, as a person sees it; 'pipe': the child's stdout is its own pipe. */
  stdout?: 'pty' | 'pipe'
  /** How long one waitFor may take (default 30 s: the first prompt comes after Node, tsx and oclif start, on a busy machine). */
  stepTimeoutMs?: number
  /** How long the program may take to exit after the last step (default 60 s). */
  exitTimeoutMs?: number
  /** Pause between keys (default 15 ms). */
  keyDelayMs?: number
  cols?: number
  rows?: number
}

export interface PtyResult {
  /** The exit code (128+N when killed by signal N). */
  code: number
  /** Everything written to the terminal, ANSI stripped, CRLF as LF. */
  screen: string
  /** The same, raw. */
  raw: string
  /** With stdout: 'pipe', what the program wrote to stdout; otherwise ''. */
  stdout: string
}

const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x1b[()][0-9A-Za-z]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r\n/g, '\n').replace(/\r/g, '')
}

/** Splits text to type into keys: escape sequences whole, everything else one character at a time. */
export function keysOf(text: string): string[] {
  return text.match(/\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|[\s\S]/g) ?? []
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `command args...` in a pseudo-terminal, performing the steps in order, and resolves when it exits. A wait
 * that times out rejects with the screen so far (and kills the program), so a failed test shows what a person saw.
 */
export async function runInPty(command: string, args: string[], options: PtyOptions = {}): Promise<PtyResult> {
  const mode = options.stdout ?? 'pty'
  const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color', ...options.env}
  if (options.env?.CI === undefined) delete env.CI
  const child = spawn('python3', ['-c', DRIVER, String(options.cols ?? 160), String(options.rows ?? 40), mode, command, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe', mode === 'pipe' ? 'pipe' : 'ignore'],
  })
  let raw = ''
  let stdout = ''
  let driverErr = ''
  let listeners: (() => void)[] = []
  const changed = () => {
    for (const l of listeners) l()
  }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    raw += d
    changed()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (driverErr += d))
  const piped = child.stdio[3] as Readable | null
  piped?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  let exitCode: number | undefined
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)
      changed()
      resolve(exitCode)
    })
  })
  const fail = (what: string): never => {
    if (exitCode === undefined) child.kill('SIGTERM')
    throw new Error(`${what}\n--- screen so far ---\n${stripAnsi(raw).slice(-3000)}\n--- end of screen ---${driverErr ? `\ndriver: ${driverErr}` : ''}`)
  }

  let mark = 0
  const stepTimeout = options.stepTimeoutMs ?? 30_000
  for (const [index, step] of (options.steps ?? []).entries()) {
    if (step.waitFor !== undefined) {
      const pattern = typeof step.waitFor === 'string' ? new RegExp(step.waitFor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : step.waitFor
      const found = await new Promise<number | undefined>((resolve) => {
        const check = () => {
          const match = pattern.exec(stripAnsi(raw).slice(mark))
          if (match) return done(mark + match.index + match[0].length)
          if (exitCode !== undefined) return done(undefined)
        }
        const timer = setTimeout(() => done(undefined), stepTimeout)
        const done = (end: number | undefined) => {
          clearTimeout(timer)
          listeners = listeners.filter((l) => l !== check)
          resolve(end)
        }
        listeners.push(check)
        check()
      })
      if (found === undefined) {
        fail(`step ${index + 1}: ${exitCode === undefined ? `no ${pattern} on the screen within ${stepTimeout} ms` : `the program exited (${exitCode}) before ${pattern} appeared`}`)
      }
      mark = found!
    }
    if (step.send !== undefined) {
      // A person reads the prompt before typing: also lets the prompt finish its render and enter raw mode.
      await sleep(options.keyDelayMs ?? 15)
      for (const key of Array.isArray(step.send) ? step.send : keysOf(step.send)) {
        if (exitCode !== undefined) fail(`step ${index + 1}: the program exited (${exitCode}) before all keys were typed`)
        child.stdin!.write(key)
        await sleep(options.keyDelayMs ?? 15)
      }
    }
  }
  child.stdin!.end()
  const timeout = options.exitTimeoutMs ?? 60_000
  const code = await Promise.race([exited, sleep(timeout).then(() => undefined)])
  if (code === undefined) fail(`the program did not exit within ${timeout} ms of the last step`)
  return {code: code!, screen: stripAnsi(raw), raw, stdout}
}
