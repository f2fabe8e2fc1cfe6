export { StoreError, type StoreErrorCode } from './errors.ts';
export { type Encoding, type Key, type NamedDb, Store, type StoreOptions } from './store.ts';
