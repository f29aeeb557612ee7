/**
 * Assessments on traces (feedback and expectations, MLflow 3): validated as MLflow's server
 * validates them, stored whole as JSON per assessment; an override hides the assessment it
 * replaces until it is deleted.
 */
import { randomBytes } from 'node:crypto';
import type { AssessmentField, NewAssessment } from '../../backend/api/traces';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import type { Assessment } from '../../domain/traceTypes';
import { MAX_ENTITY_KEY_LENGTH, validateLength } from '../limits';
import type { StoreCore } from '../storeCore';
import type { TraceRows, TraceWrite } from './traceRows';

export function newAssessmentId(): string {
  return `a-${randomBytes(16).toString('hex')}`;
}

export class TraceAssessments {
  constructor(
    private readonly core: StoreCore,
    private readonly rows: TraceRows,
    private readonly write: TraceWrite,
  ) {}

  complete(traceId: string, a: NewAssessment, now: string): Assessment {
    if (!a.assessment_name) throw invalidParameter("Missing value for required parameter 'assessment.assessment_name'.");
    validateLength('assessment name', a.assessment_name, MAX_ENTITY_KEY_LENGTH);
    if ((a.feedback === undefined) === (a.expectation === undefined)) {
      throw invalidParameter(`Assessment '${a.assessment_name}' must have exactly one of 'feedback' or 'expectation'.`);
    }
    const out: Assessment = {
      ...a,
      assessment_id: a.assessment_id || newAssessmentId(),
      trace_id: traceId,
      source: a.source ?? { source_type: 'SOURCE_TYPE_UNSPECIFIED' },
      create_time: a.create_time ?? now,
      last_update_time: now,
      valid: a.valid ?? true,
    };
    return out;
  }

  private stored(traceId: string, assessmentId: string): Assessment {
    const trace = this.rows.row(traceId);
    const body = this.core.db.value('SELECT body FROM assessments WHERE assessment_id = ? AND trace = ?', [assessmentId, trace.id]);
    if (body === undefined) throw doesNotExist(`Assessment with ID '${assessmentId}' not found for trace '${traceId}'`);
    return JSON.parse(String(body)) as Assessment;
  }

  async create(traceId: string, input: NewAssessment): Promise<Assessment> {
    const row = this.rows.row(traceId);
    const assessment = this.complete(traceId, { ...input, assessment_id: undefined }, new Date().toISOString());
    if (assessment.overrides) this.stored(traceId, assessment.overrides);
    await this.write({ t: 'as.put', trace: traceId, assessment, invalidate: assessment.overrides }, traceId, row.experiment_id);
    return assessment;
  }

  async get(traceId: string, assessmentId: string): Promise<Assessment> {
    return this.stored(traceId, assessmentId);
  }

  async update(traceId: string, assessmentId: string, patch: Partial<Assessment>, fields: AssessmentField[]): Promise<Assessment> {
    const row = this.rows.row(traceId);
    const current = this.stored(traceId, assessmentId);
    const next: Assessment = { ...current, last_update_time: new Date().toISOString() };
    const apply = fields.length > 0 ? fields : (Object.keys(patch) as AssessmentField[]);
    for (const f of apply) {
      switch (f) {
        case 'assessment_name':
          if (!patch.assessment_name) throw invalidParameter('assessment_name cannot be empty.');
          next.assessment_name = patch.assessment_name;
          break;
        case 'feedback':
          if (current.expectation) throw invalidParameter('Cannot update an expectation assessment with a feedback value.');
          next.feedback = patch.feedback ?? {};
          break;
        case 'expectation':
          if (current.feedback) throw invalidParameter('Cannot update a feedback assessment with an expectation value.');
          next.expectation = patch.expectation ?? {};
          break;
        case 'rationale':
          if (patch.rationale === undefined) delete next.rationale;
          else next.rationale = patch.rationale;
          break;
        case 'metadata':
          next.metadata = { ...(current.metadata ?? {}), ...(patch.metadata ?? {}) };
          break;
        case 'valid':
          next.valid = patch.valid ?? true;
          break;
        case 'span_id':
          if (patch.span_id === undefined) delete next.span_id;
          else next.span_id = patch.span_id;
          break;
        default:
          break;
      }
    }
    await this.write({ t: 'as.put', trace: traceId, assessment: next }, traceId, row.experiment_id);
    return next;
  }

  async delete(traceId: string, assessmentId: string): Promise<void> {
    const row = this.rows.row(traceId);
    const current = this.stored(traceId, assessmentId);
    if (current.overrides) {
      // Deleting an override brings back the assessment it replaced.
      const replaced = this.core.db.value('SELECT body FROM assessments WHERE assessment_id = ?', [current.overrides]);
      if (replaced !== undefined) {
        const restored = { ...(JSON.parse(String(replaced)) as Assessment), valid: true };
        await this.write({ t: 'as.put', trace: traceId, assessment: restored }, traceId, row.experiment_id);
      }
    }
    await this.write({ t: 'as.delete', id: assessmentId }, traceId, row.experiment_id);
  }
}
