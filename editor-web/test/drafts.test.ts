import { afterEach, describe, expect, it } from 'vitest';
import { LEAVE_QUESTION, draftStatus, hasUnsaved, mayLeave, setUnsaved } from '../src/model/drafts';

describe('leaving with unsaved changes', () => {
  afterEach(() => setUnsaved(false));
  it('leaves without asking when nothing is unsaved', () => {
    let asked = 0;
    expect(mayLeave(() => (asked++, false))).toBe(true);
    expect(asked).toBe(0);
  });
  it('asks, and stays when the user says no', () => {
    setUnsaved(true);
    const questions: string[] = [];
    expect(mayLeave((q) => (questions.push(q), false))).toBe(false);
    expect(questions).toEqual([LEAVE_QUESTION]);
    expect(hasUnsaved()).toBe(true);
  });
  it('asks once: after a yes the changes are left behind', () => {
    setUnsaved(true);
    expect(mayLeave(() => true)).toBe(true);
    expect(hasUnsaved()).toBe(false);
    expect(mayLeave(() => false)).toBe(true);
  });
});

describe('the status of a draft saved with errors', () => {
  it('counts the errors there are now', () => {
    expect(draftStatus(6, false)).toEqual({
      kind: 'warn',
      text: 'Saved as a draft with 6 errors: it is kept, and Deploy works once the marked fields are fixed',
    });
    expect(draftStatus(1, true).text).toMatch(/^Saved as a draft with 1 error:/);
  });
  it('does not stay stale once they are fixed', () => {
    expect(draftStatus(0, true)).toEqual({ kind: 'ok', text: 'No errors left: Save, then Deploy' });
    expect(draftStatus(0, false)).toEqual({ kind: 'ok', text: 'Saved' });
  });
});
