/**
 * Registered GenAI scorers (`scorer.register()`, `list_scorers`, `get_scorer`, `delete_scorer`):
 * versioned serialized scorers per (experiment, name), as MLflow's SQL store keeps them.
 * Runlens never runs a scorer; it still refuses the payloads `mlflow server` refuses, so a
 * client sees the same answers and a store never holds what MLflow would not.
 */
import { randomUUID } from 'node:crypto';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import type { ScorerStore } from '../../backend/api/evalDatasets';
import type { StoreCore } from '../storeCore';
import type { JsonValue, ScorerVersion } from '../../domain/datasetTypes';
import { isObject } from './recordUpsert';

export const CUSTOM_SCORER_REFUSED =
  'Custom scorer registration (using @scorer decorator) is disabled by default ' +
  'outside of Databricks tracking environments due to security concerns. ' +
  'Custom scorers require arbitrary code execution during deserialization.\n\n' +
  'To use custom scorers:\n' +
  '1. Configure MLflow to use a Databricks tracking URI, or\n' +
  '2. Manage your custom scorer code in a source code repository ' +
  '(e.g., GitHub) and import it directly, or\n' +
  "3. On a self-managed MLflow server (or local environment) that you trust to run the scorer's code, " +
  'set the MLFLOW_SERVER_ENABLE_CUSTOM_SCORERS environment variable to true, or\n' +
  '4. Use built-in scorers or make_judge() scorers instead.';

/** Options that would pick the host a third-party judge's LLM client talks to. */
const DESTINATION_KEYS = ['api_base', 'base_url', 'model_list', 'fallbacks', 'custom_llm_provider'];

function hasCallSource(v: JsonValue | undefined): boolean {
  if (Array.isArray(v)) return v.some(hasCallSource);
  if (!isObject(v)) return false;
  if (v.call_source !== undefined && v.call_source !== null) return true;
  return Object.values(v).some(hasCallSource);
}

function destinationKeys(v: JsonValue | undefined, found: Set<string>): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      // A list of [key, value] pairs is how some libraries spell an options map.
      if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && DESTINATION_KEYS.includes(item[0])) found.add(item[0]);
      destinationKeys(item, found);
    }
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (DESTINATION_KEYS.includes(k)) found.add(k);
      destinationKeys(x, found);
    }
  }
}

function checkThirdParty(v: JsonValue | undefined): void {
  if (Array.isArray(v)) v.forEach(checkThirdParty);
  if (!isObject(v)) return;
  const data = v.third_party_scorer_data;
  if (isObject(data)) {
    const kwargs = data.kwargs;
    if (kwargs !== undefined && kwargs !== null && !isObject(kwargs)) {
      throw invalidParameter(`third_party_scorer_data.kwargs must be a JSON object, got ${Array.isArray(kwargs) ? 'list' : typeof kwargs === 'string' ? 'str' : typeof kwargs === 'number' ? (Number.isInteger(kwargs) ? 'int' : 'float') : 'bool'}.`);
    }
    const found = new Set<string>();
    destinationKeys(kwargs, found);
    if (found.size) {
      throw invalidParameter(
        `third_party_scorer_data.kwargs must not contain ${[...found].sort().map((k) => `'${k}'`).join(', ')}: ` +
          "these options choose where the scorer's LLM client sends requests. Configure " +
          "the judge endpoint on the server instead, for example through a gateway " +
          "endpoint ('gateway:/<name>') or the provider's environment variables.",
      );
    }
  }
  Object.values(v).forEach(checkThirdParty);
}

/** The judge model a serialized scorer names, where MLflow looks for one. */
function scorerModel(data: JsonValue | undefined): JsonValue | undefined {
  if (!isObject(data)) return undefined;
  for (const field of ['instructions_judge_pydantic_data', 'builtin_scorer_pydantic_data']) {
    const d = data[field];
    if (isObject(d) && Object.keys(d).length) return d.model;
  }
  const mem = data.memory_augmented_judge_data;
  if (isObject(mem) && Object.keys(mem).length) return scorerModel(mem.base_judge ?? {});
  const tp = data.third_party_scorer_data;
  if (isObject(tp) && Object.keys(tp).length) return tp.model;
  return undefined;
}

function pyTypeName(v: JsonValue): string {
  if (Array.isArray(v)) return 'list';
  if (isObject(v)) return 'dict';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v === 'boolean' ? 'bool' : 'str';
}

function customScorersEnabled(): boolean {
  return /^(true|1)$/i.test(process.env.MLFLOW_SERVER_ENABLE_CUSTOM_SCORERS ?? '');
}

interface VersionRow {
  scorer_id: string;
  experiment_id: number;
  name: string;
  version: number;
  serialized: string;
  creation_time: number;
}

const VERSION_SELECT = 'SELECT s.scorer_id, s.experiment_id, s.name, v.version, v.serialized, v.creation_time FROM scorers s JOIN scorer_versions v ON v.scorer_id = s.scorer_id';

function toWire(r: VersionRow): ScorerVersion {
  return { experiment_id: r.experiment_id, scorer_name: r.name, scorer_version: r.version, serialized_scorer: r.serialized, creation_time: r.creation_time, scorer_id: r.scorer_id };
}

export class Scorers implements ScorerStore {
  constructor(private readonly core: StoreCore) {}

  /** `get_experiment` + `_check_experiment_is_active`, with MLflow 3's messages. */
  private activeExperiment(experimentId: string): number {
    if (!/^-?\d+$/.test(experimentId)) throw invalidParameter(`Invalid experiment ID '${experimentId}'. Experiment ID must be a valid integer.`);
    const id = Number(experimentId);
    const stage = this.core.db.value('SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?', [id]);
    if (stage === undefined) throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    if (stage !== 'active') throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${String(stage)}.`);
    return id;
  }

  private scorerId(exp: number, name: string): string | undefined {
    const id = this.core.db.value('SELECT scorer_id FROM scorers WHERE experiment_id = ? AND name = ?', [exp, name]);
    return id === undefined ? undefined : String(id);
  }

  /** The request-level checks `_register_scorer` makes before the store sees the payload. */
  private validatePayload(serialized: string): void {
    let data: JsonValue;
    try {
      data = JSON.parse(serialized) as JsonValue;
    } catch {
      throw invalidParameter('serialized_scorer must be valid JSON');
    }
    if (hasCallSource(data) && !customScorersEnabled()) throw invalidParameter(CUSTOM_SCORER_REFUSED);
    checkThirdParty(data);
  }

  async register(experimentId: string, name: string, serialized: string): Promise<ScorerVersion> {
    this.validatePayload(serialized);
    if (!name.trim()) throw invalidParameter('Scorer name cannot be empty or contain only whitespace.');
    const exp = this.activeExperiment(experimentId);
    const data = JSON.parse(serialized) as JsonValue;
    if (!isObject(data)) throw invalidParameter('serialized_scorer must be a JSON object');
    const model = scorerModel(data);
    if (model !== undefined && model !== null) {
      if (typeof model !== 'string') throw invalidParameter(`Scorer model must be a string, got ${pyTypeName(model)}.`);
      if (!model.trim()) throw invalidParameter('Scorer model cannot be empty or contain only whitespace.');
      const gateway = /^gateway:\/+(.+)$/.exec(model);
      // Runlens has no AI gateway, so no gateway endpoint exists to resolve.
      if (gateway) throw doesNotExist(`GatewayEndpoint not found (name='${gateway[1]}')`);
    }
    const scorerId = this.scorerId(exp, name) ?? randomUUID();
    const version = Number(this.core.db.value('SELECT coalesce(max(version), 0) + 1 FROM scorer_versions WHERE scorer_id = ?', [scorerId]));
    const time = Date.now();
    await this.core.write({ t: 'sc.register', scorerId, exp, name, version, serialized, time });
    return { experiment_id: exp, scorer_name: name, scorer_version: version, serialized_scorer: serialized, creation_time: time, scorer_id: scorerId };
  }

  async listLatest(experimentIds: string[] | undefined): Promise<ScorerVersion[]> {
    return this.listAcross(experimentIds === undefined ? this.allActive() : this.activeAmong(experimentIds));
  }

  /** Latest version of every scorer in the experiments, by experiment then name. */
  private listAcross(experimentIds: number[]): ScorerVersion[] {
    if (experimentIds.length === 0) return [];
    const rows = this.core.db.all<VersionRow>(
      `${VERSION_SELECT} WHERE s.experiment_id IN (${experimentIds.map(() => '?').join(', ')})
       AND v.version = (SELECT max(version) FROM scorer_versions WHERE scorer_id = s.scorer_id) ORDER BY s.experiment_id, s.name`,
      experimentIds,
    );
    return rows.map(toWire);
  }

  async list(experimentId: string): Promise<ScorerVersion[]> {
    return this.listAcross([this.activeExperiment(experimentId)]);
  }

  /** Active experiments among the ids (each must be an integer); unknown ones drop out. */
  private activeAmong(experimentIds: string[]): number[] {
    const ids = [...new Set(experimentIds)].map((e) => {
      if (!/^-?\d+$/.test(e)) throw invalidParameter(`Invalid experiment ID '${e}'. Experiment ID must be a valid integer.`);
      return Number(e);
    });
    return ids.filter((id) => this.core.db.value("SELECT 1 FROM experiments WHERE experiment_id = ? AND lifecycle_stage = 'active'", [id]) !== undefined);
  }

  private allActive(): number[] {
    return this.core.db.rows("SELECT experiment_id FROM experiments WHERE lifecycle_stage = 'active'").map((r) => Number(r[0]));
  }

  private notFound(experimentId: string, name: string, version?: number): Error {
    return doesNotExist(
      version === undefined
        ? `Scorer with name '${name}' not found for experiment ${experimentId}.`
        : `Scorer with name '${name}' and version ${version} not found for experiment ${experimentId}.`,
    );
  }

  async versions(experimentId: string, name: string): Promise<ScorerVersion[]> {
    const exp = this.activeExperiment(experimentId);
    const rows = this.core.db.all<VersionRow>(`${VERSION_SELECT} WHERE s.experiment_id = ? AND s.name = ? ORDER BY v.version`, [exp, name]);
    if (rows.length === 0) throw this.notFound(experimentId, name);
    return rows.map(toWire);
  }

  async get(experimentId: string, name: string, version?: number): Promise<ScorerVersion> {
    const exp = this.activeExperiment(experimentId);
    const row =
      version === undefined
        ? this.core.db.get<VersionRow>(`${VERSION_SELECT} WHERE s.experiment_id = ? AND s.name = ? ORDER BY v.version DESC LIMIT 1`, [exp, name])
        : this.core.db.get<VersionRow>(`${VERSION_SELECT} WHERE s.experiment_id = ? AND s.name = ? AND v.version = ?`, [exp, name, version]);
    if (!row) throw this.notFound(experimentId, name, this.scorerId(exp, name) === undefined ? undefined : version);
    return toWire(row);
  }

  /** Without a version: the scorer and all its versions. With one: only that version. */
  async delete(experimentId: string, name: string, version?: number): Promise<void> {
    const exp = this.activeExperiment(experimentId);
    const scorerId = this.scorerId(exp, name);
    if (scorerId === undefined) throw this.notFound(experimentId, name);
    const count = Number(
      this.core.db.value(`SELECT count(*) FROM scorer_versions WHERE scorer_id = ?${version === undefined ? '' : ' AND version = ?'}`, version === undefined ? [scorerId] : [scorerId, version]),
    );
    if (count === 0) throw this.notFound(experimentId, name, version);
    await this.core.write({ t: 'sc.delete', scorerId, ...(version === undefined ? {} : { version }) });
  }
}
