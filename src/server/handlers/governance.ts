/**
 * Governance routes (Runlens extension; README "Governance"): spend summaries, a run's cost,
 * budgets, violations and the audit trail of a store served with a governance file.
 */
import type { GovernanceApi } from '../../backend/api/governance';
import { MlflowError } from '../../domain/errors';
import type { Router } from '../router';

const PREFIX = '/runlens/api/governance';

export function registerGovernanceRoutes(router: Router, gov: GovernanceApi | undefined): void {
  router.plain('GET', PREFIX, async () => ({ enabled: gov !== undefined, ...(gov?.configSource ? { config: gov.configSource } : {}) }));
  const on = (): GovernanceApi => {
    if (!gov) throw new MlflowError('ENDPOINT_NOT_FOUND', 'Governance is off for this store: start the server with `runlens serve --governance FILE` (in VS Code: add .runlens/governance.yaml to the workspace).');
    return gov;
  };
  router.plain('GET', `${PREFIX}/summary`, async ({ fields }) =>
    on().summary({ groupBy: fields.string('group_by') ?? 'team', since: fields.string('since'), until: fields.string('until'), experimentId: fields.string('experiment_id'), series: fields.string('series') }),
  );
  router.plain('GET', `${PREFIX}/run-cost`, async ({ fields }) => on().runCost(fields.requiredString('run_id')));
  router.plain('GET', `${PREFIX}/budgets`, async () => ({ budgets: on().budgets() }));
  router.plain('GET', `${PREFIX}/violations`, async ({ fields }) => ({ violations: on().violations(fields.int('limit')) }));
  router.plain('GET', `${PREFIX}/audit`, async ({ fields }) => {
    const since = fields.string('since');
    const sinceMs = since === undefined ? undefined : /^\d+$/.test(since) ? Number(since) : Date.parse(since);
    if (sinceMs !== undefined && !Number.isFinite(sinceMs)) throw new MlflowError('INVALID_PARAMETER_VALUE', `since must be an ISO time or milliseconds since the epoch (got '${since}')`);
    return { entries: await on().audit({ since: sinceMs, op: fields.string('op'), runId: fields.string('run_id'), outcome: fields.string('outcome'), limit: fields.int('limit'), beforeSeq: fields.int('before') }) };
  });
}
