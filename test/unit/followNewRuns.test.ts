// What the explorer reveals after new runs arrive: the user's selection wins over the new run.
import * as assert from 'node:assert/strict';
import { revealAfterNewRuns } from '../../src/extension/tree/followNewRuns';

describe('extension: revealing after new runs', () => {
  it('keeps a selected run in view instead of jumping to the new one', () => {
    assert.equal(revealAfterNewRuns(['mine'], ['new1', 'new2'], true), 'mine');
    assert.equal(revealAfterNewRuns(['mine'], ['new1'], false), 'mine');
  });
  it('follows the newest run only when nothing is selected and the setting asks for it', () => {
    assert.equal(revealAfterNewRuns([], ['new1', 'new2'], true), 'new2');
    assert.equal(revealAfterNewRuns([], ['new1'], false), undefined);
    assert.equal(revealAfterNewRuns(['mine'], [], true), undefined);
  });
});
