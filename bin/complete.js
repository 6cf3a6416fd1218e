#!/usr/bin/env node
// kubectl's completion of plugins (kubectl 1.26+): `kubectl smh <TAB>` runs kubectl_complete-smh with the words typed.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url, args: ['__complete', ...process.argv.slice(2)]})
