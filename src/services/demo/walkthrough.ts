/**
 * `demo up --walkthrough` (issue 8): the blog post's walkthrough performed on the running demo through the same
 * services the verbs use. Each step carries the `kubectl smh ...` line that does the same, printed before it runs,
 * so a newcomer learns the commands by watching. Run again, every step changes nothing.
 */
import type {KubeConfig} from '@kubernetes/client-node'

import {UsageError} from '../../errors.js'
import type {ClusterClient} from '../../kube/client.js'
import {install} from '../install.js'
import {registerCluster} from '../register.js'
import type {ProgressEvent} from '../sync.js'
import {addFailoverService} from '../verbs/add-failoverservice.js'
import type {VerbResult} from '../verbs/author.js'
import {createVirtualMesh} from '../verbs/create-virtualmesh.js'
import {setOutlier} from '../verbs/set-outlier.js'
import {shiftTraffic} from '../verbs/shift-traffic.js'

/** What a step did: one line, and for a verb its whole result (its sync included). */
export interface StepOutcome {
  summary: string
  result?: VerbResult
}

export interface WalkthroughStep {
  /** What the step does, in the blog post's words. */
  title: string
  /** The arguments of the `kubectl smh` command line that does the same. */
  argv: string[]
  run: () => Promise<StepOutcome>
}

export interface WalkthroughOptions {
  kubeconfig: KubeConfig
  mgmt: ClusterClient
  /** The demo's clusters: the first is the management cluster, the second runs bookinfo without reviews-v3. */
  clusters: string[]
  onStep?: (step: WalkthroughStep, index: number, total: number) => void
  onOutcome?: (step: WalkthroughStep, outcome: StepOutcome) => void
  onProgress?: (event: ProgressEvent) => void
}

export interface WalkthroughResult {
  steps: {command: string; title: string; summary: string; result?: VerbResult}[]
}

/** register cluster's default (8760h). */
const TOKEN_SECONDS = 8760 * 3600

const verbOutcome = (result: VerbResult): StepOutcome => ({summary: (result.applied ?? []).map((a) => `${a.resource} ${a.action}`).join(', '), result})

/** The seed's walkthrough for these clusters: each step's command line beside the call that performs it. */
export function walkthroughSteps(options: WalkthroughOptions): WalkthroughStep[] {
  const {mgmt, clusters} = options
  const remotes = clusters.slice(1)
  const [first] = remotes
  const reviews = remotes.map((c) => `${c}/default/reviews`)
  const meshes = remotes.map((c) => `istiod-istio-system-${c}`)
  const verb = {mgmt, onProgress: options.onProgress}
  return [
    {
      title: 'Install the SMH CRDs on the management cluster',
      argv: ['install'],
      run: async () => {
        const {objects} = await install(mgmt)
        const changed = objects.filter((o) => o.action !== 'unchanged').length
        return {summary: `${changed} objects created or changed, ${objects.length - changed} unchanged`}
      },
    },
    ...remotes.map((cluster): WalkthroughStep => ({
      title: `Register ${cluster}: a least-privilege identity there, its token stored in ${clusters[0]}`,
      argv: ['register', 'cluster', cluster, '--remote-context', cluster],
      run: async () => {
        const result = await registerCluster({kubeconfig: options.kubeconfig, mgmt, name: cluster, remoteContext: cluster, tokenDurationSeconds: TOKEN_SECONDS})
        return {summary: `registered; its token is valid until ${result.tokenExpires}`}
      },
    })),
    {
      title: 'One virtual mesh: a shared root of trust and federation',
      // The blog's VirtualMesh federates everything (permissive); the verb's own default is on-demand.
      argv: ['create', 'virtualmesh', 'virtual-mesh', ...meshes.flatMap((m) => ['--mesh', m]), '--auto-restart-pods', '--federation', 'all'],
      run: async () => verbOutcome(await createVirtualMesh({...verb, name: 'virtual-mesh', mesh: meshes, autoRestartPods: true, federation: 'all'})),
    },
    {
      title: 'Outlier detection on reviews in every cluster (the blog\'s mgmt-reviews-outlier)',
      argv: ['set', 'outlier', ...reviews, '--name', 'mgmt-reviews-outlier', '--consecutive-errors', '1', '--interval', '10s', '--base-ejection-time', '2m'],
      run: async () => verbOutcome(await setOutlier({...verb, services: reviews, name: 'mgmt-reviews-outlier', consecutiveErrors: 1, interval: '10s', baseEjectionTime: '2m'})),
    },
    {
      title: `A failover service: reviews in ${first} first, then in ${remotes.slice(1).join(', ')}`,
      argv: ['add', 'failoverservice', 'reviews-failover', '--hostname', 'reviews-failover.default.global', '--port', '9080/http', ...reviews.flatMap((r) => ['--backing', r])],
      run: async () => verbOutcome(await addFailoverService({...verb, name: 'reviews-failover', hostname: 'reviews-failover.default.global', port: '9080/http', backing: reviews})),
    },
    {
      title: `Shift ${first}'s reviews traffic to the failover service`,
      argv: ['shift', 'traffic', `${first}/default/reviews`, '--to-failover', 'reviews-failover', '-n', 'default'],
      run: async () => verbOutcome(await shiftTraffic({...verb, service: `${first}/default/reviews`, toFailover: 'reviews-failover', namespace: 'default'})),
    },
  ]
}

/** The walkthrough fails over from one cluster to another: it needs the management cluster and two more. */
export function checkWalkthroughClusters(clusters: string[]): void {
  if (clusters.length < 3) throw new UsageError(`--walkthrough needs a management cluster and two more (--clusters ${clusters.join(',')}): e.g. --clusters kind1,kind2,kind3`)
}

/** Runs the steps in order; the first that fails stops the walkthrough (its error is thrown). */
export async function walkthrough(options: WalkthroughOptions): Promise<WalkthroughResult> {
  checkWalkthroughClusters(options.clusters)
  const steps = walkthroughSteps(options)
  const done: WalkthroughResult['steps'] = []
  for (const [i, step] of steps.entries()) {
    options.onStep?.(step, i, steps.length)
    const outcome = await step.run()
    options.onOutcome?.(step, outcome)
    done.push({command: `kubectl smh ${step.argv.join(' ')}`, title: step.title, summary: outcome.summary, ...(outcome.result ? {result: outcome.result} : {})})
  }
  return {steps: done}
}
