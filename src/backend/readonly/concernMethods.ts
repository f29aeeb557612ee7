/**
 * Which methods of each backend concern read and which write, for the read-only views. The
 * compile-time check below fails when an interface gains a method neither list names.
 */
import type { EvalDatasetStore, ScorerStore } from '../api/evalDatasets';
import type { LoggedModelStore } from '../api/loggedModels';
import type { ModelRegistryStore } from '../api/registry';
import type { TraceStore } from '../api/traces';
import type { Exhaustive } from './readOnly';


export const LOGGED_MODEL_READS = ['get', 'search'] as const;
export const LOGGED_MODEL_WRITES = ['create', 'finalize', 'delete', 'setTags', 'deleteTag', 'logParams'] as const;
export type LoggedModelReads = (typeof LOGGED_MODEL_READS)[number];
export type LoggedModelWrites = (typeof LOGGED_MODEL_WRITES)[number];

export const REGISTRY_READS = ['getRegisteredModel', 'getVersionByAlias', 'searchRegisteredModels', 'getLatestVersions', 'getModelVersion', 'getDownloadUri', 'searchModelVersions'] as const;
export const REGISTRY_WRITES = [
  'createRegisteredModel',
  'renameRegisteredModel',
  'updateRegisteredModel',
  'deleteRegisteredModel',
  'setRegisteredModelTag',
  'deleteRegisteredModelTag',
  'setAlias',
  'deleteAlias',
  'createModelVersion',
  'updateModelVersion',
  'transitionStage',
  'deleteModelVersion',
  'setModelVersionTag',
  'deleteModelVersionTag',
] as const;
export type RegistryReads = (typeof REGISTRY_READS)[number];
export type RegistryWrites = (typeof REGISTRY_WRITES)[number];

export const TRACE_READS = ['get', 'getMany', 'search', 'metrics', 'count', 'sessions', 'getAssessment', 'traceForUpload', 'spanSummaries', 'payloadPath', 'readSpans', 'readSpansNoting'] as const;
export const TRACE_WRITES = ['start', 'endV2', 'delete', 'setTag', 'deleteTag', 'linkToRun', 'createAssessment', 'updateAssessment', 'deleteAssessment', 'acceptTracesJson', 'ingest'] as const;
export type TraceReads = (typeof TRACE_READS)[number];
export type TraceWrites = (typeof TRACE_WRITES)[number];

export const DATASET_READS = ['get', 'search', 'records', 'experimentIds'] as const;
export const DATASET_WRITES = ['create', 'delete', 'setTags', 'deleteTag', 'upsertRecords', 'deleteRecords', 'addToExperiments', 'removeFromExperiments'] as const;
export type DatasetReads = (typeof DATASET_READS)[number];
export type DatasetWrites = (typeof DATASET_WRITES)[number];

export const SCORER_READS = ['list', 'listLatest', 'versions', 'get'] as const;
export const SCORER_WRITES = ['register', 'delete'] as const;
export type ScorerReads = (typeof SCORER_READS)[number];
export type ScorerWrites = (typeof SCORER_WRITES)[number];

// Compile-time: every method of every concern is a read or a write above.
const exhaustive: [
  Exhaustive<LoggedModelStore, LoggedModelReads, LoggedModelWrites>,
  Exhaustive<ModelRegistryStore, RegistryReads, RegistryWrites>,
  Exhaustive<TraceStore, TraceReads, TraceWrites>,
  Exhaustive<EvalDatasetStore, DatasetReads, DatasetWrites>,
  Exhaustive<ScorerStore, ScorerReads, ScorerWrites>,
] = [true, true, true, true, true];
void exhaustive;
