export {discoverCluster} from './discover.js'
export {discoveredName, sanitizeName} from './naming.js'
export type * from './types.js'
