/**
 * The governance tags on runs (GenOps' names, so GenOps users and MLflow's UI see the same):
 * attribution as `genops.<attribute>`, and the run's total cost, added on read by a governed server.
 */
export const ATTRIBUTES = ['team', 'project', 'customer_id', 'environment', 'cost_center'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];
export const GENOPS_PREFIX = 'genops.';
/** A run's spend in dollars, its children included (a governed server adds it to get_run/search_runs). */
export const COST_TAG = 'genops.cost.total_usd';
/** Tags Runlens sets on a run that broke a warn-mode budget or policy (value: the reason). */
export const VIOLATION_TAG_PREFIX = 'genops.violation.';
