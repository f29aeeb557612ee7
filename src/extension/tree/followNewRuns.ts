/**
 * What the explorer reveals after new runs were inserted (newest first, so above the user's rows).
 * A user who selected a run is working there: keep that run in view rather than jumping to the
 * new one; only an explorer nobody is using follows the newest run (the autoRevealNewRuns setting).
 */
export function revealAfterNewRuns(selectedRunIds: readonly string[], createdRunIds: readonly string[], autoReveal: boolean): string | undefined {
  if (createdRunIds.length === 0) return undefined;
  if (selectedRunIds.length > 0) return selectedRunIds[0];
  return autoReveal ? createdRunIds[createdRunIds.length - 1] : undefined;
}
