import type {ChalkInstance} from 'chalk'

import type {ProgressEvent} from '../services/sync.js'

export interface ClusterProgress {
  update(cluster: string, message: string, state?: 'working' | 'done' | 'failed'): void
  stop(): void
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/**
 * One line per cluster on stderr. On a terminal the lines are redrawn in place with a spinner while work goes on;
 * otherwise each change is one plain line (`kind2: planning`), which logs and CI read well.
 */
export function clusterProgress(stream: NodeJS.WriteStream, color: ChalkInstance): ClusterProgress {
  if (!stream.isTTY) {
    return {
      update: (cluster, message, state) => stream.write(`${cluster}: ${state === 'failed' ? 'FAILED: ' : ''}${message}\n`),
      stop: () => {},
    }
  }
  const lines = new Map<string, {message: string; state: 'working' | 'done' | 'failed'}>()
  let frame = 0
  let drawn = 0
  const draw = () => {
    if (drawn) stream.write(`\u001B[${drawn}A`)
    for (const [cluster, {message, state}] of lines) {
      const mark = state === 'done' ? color.green('✓') : state === 'failed' ? color.red('✗') : color.cyan(FRAMES[frame % FRAMES.length])
      stream.write(`\u001B[2K${mark} ${cluster}: ${message}\n`)
    }
    drawn = lines.size
  }
  const timer = setInterval(() => {
    frame++
    draw()
  }, 100)
  timer.unref()
  return {
    update(cluster, message, state = 'working') {
      lines.set(cluster, {message, state})
      draw()
    },
    stop() {
      clearInterval(timer)
      draw()
    },
  }
}

/** Runs one piece of multi-cluster work with its progress drawn on stderr, and always stops drawing. */
export async function withClusterProgress<T>(stream: NodeJS.WriteStream, color: ChalkInstance, work: (onProgress: (event: ProgressEvent) => void) => Promise<T>): Promise<T> {
  const progress = clusterProgress(stream, color)
  try {
    return await work((e) => progress.update(e.cluster, e.message, e.phase === 'done' ? 'done' : e.phase === 'failed' ? 'failed' : 'working'))
  } finally {
    progress.stop()
  }
}
