export { StoreError, type StoreErrorCode } from './errors.ts';
export {
  isCompleted,
  isFailed,
  isInProgress,
  PersistStatus,
  persistPut,
  persistWith,
} from './persist.ts';
export { fieldCodec } from './record-fields.ts';
export {
  defineRecord,
  type FieldCodec,
  type FieldSpec,
  type RecordCodec,
  type RecordDefinition,
  type RecordFields,
  type RecordHeader,
  type RecordRead,
  readRecordHeader,
  recordDb,
  type TlvRecord,
} from './records.ts';
export {
  DEFAULT_MIN_FREE_BYTES,
  type Encoding,
  type Key,
  type NamedDb,
  Store,
  type StoreOptions,
  type WriteOutcome,
} from './store.ts';
