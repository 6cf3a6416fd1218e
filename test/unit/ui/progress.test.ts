import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import {clusterProgress} from '../../../src/ui/progress.js'

function fakeStream(isTTY: boolean): NodeJS.WriteStream & {text: string} {
  const stream = {isTTY, text: '', write(chunk: string) {
    stream.text += chunk
    return true
  }}
  return stream as unknown as NodeJS.WriteStream & {text: string}
}

describe('per-cluster progress on stderr', () => {
  it('off a terminal: one plain line per change, failures marked', () => {
    const stream = fakeStream(false)
    const progress = clusterProgress(stream, new Chalk({level: 0}))
    progress.update('kind2', 'discovering')
    progress.update('kind3', 'connection refused', 'failed')
    progress.stop()
    expect(stream.text).toBe('kind2: discovering\nkind3: FAILED: connection refused\n')
  })

  it('on a terminal: one line per cluster, redrawn in place with a mark for its state', () => {
    const stream = fakeStream(true)
    const progress = clusterProgress(stream, new Chalk({level: 0}))
    progress.update('kind2', 'discovering')
    progress.update('kind3', 'discovering')
    progress.update('kind2', 'created 3', 'done')
    progress.stop()
    // The last frame: cursor up over both lines, then each cluster's line, kind2 done.
    const lastFrame = stream.text.slice(stream.text.lastIndexOf('\u001B[2A'))
    expect(lastFrame).toContain('✓ kind2: created 3')
    expect(lastFrame).toMatch(/kind3: discovering/)
    expect(lastFrame.split('\n').filter((l) => l.includes('kind')).length).toBe(2)
  })
})
