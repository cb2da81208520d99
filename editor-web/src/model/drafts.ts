// Unsaved work and drafts: one guard for every way of leaving a flow with unsaved
// changes (reload and closing ask through beforeunload; Back, Forward, the Trellis
// link and any other hash change through the router), and the status line of a flow
// saved as a draft with errors, worded from the errors that remain now, not those at
// the time of saving.

export const LEAVE_QUESTION = 'This flow has unsaved changes. Leave anyway?';

let unsaved = false;

// The editor says whether it holds unsaved changes; the router asks before leaving.
export function setUnsaved(value: boolean): void {
  unsaved = value;
}

export function hasUnsaved(): boolean {
  return unsaved;
}

// True when leaving is fine: nothing unsaved, or the user confirms (who then leaves
// the changes behind, so a second question on the way out is not asked).
export function mayLeave(ask: (question: string) => boolean = (q) => window.confirm(q)): boolean {
  if (!unsaved) return true;
  if (!ask(LEAVE_QUESTION)) return false;
  unsaved = false;
  return true;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

// The status line after saving a draft with errors, for the errors there are now.
export function draftStatus(errors: number, dirty: boolean): { kind: 'ok' | 'warn'; text: string } {
  if (errors > 0) {
    return {
      kind: 'warn',
      text: `Saved as a draft with ${plural(errors, 'error')}: it is kept, and Deploy works once the marked fields are fixed`,
    };
  }
  if (dirty) return { kind: 'ok', text: 'No errors left: Save, then Deploy' };
  return { kind: 'ok', text: 'Saved' };
}
