import { describe, expect, it } from 'vitest';
import { addBranch, branchRows, moveBranch, removeBranch, sameTraits, setBranch, traitMap, traitRowProblem, traitRows } from '../src/model/rows';

describe("a split's branches as rows", () => {
  const value = [{ when: 'user.orders >= 5', next: 'vip' }, { when: 'event.total > 100', next: 'big' }, { when: 'user.tier == "gold"' }];

  it('reads the list; anything else is no branch', () => {
    expect(branchRows(value)).toEqual([
      { when: 'user.orders >= 5', next: 'vip' },
      { when: 'event.total > 100', next: 'big' },
      { when: 'user.tier == "gold"' },
    ]);
    expect(branchRows(undefined)).toEqual([]);
    expect(branchRows('[{"when": "x"}]')).toEqual([]);
    expect(branchRows([null, { when: 3, next: '' }])).toEqual([{ when: '' }, { when: '' }]);
  });

  it('changes one row and leaves the others as they were', () => {
    const rows = branchRows(value);
    const changed = setBranch(rows, 2, { next: 'gold' });
    expect(changed[2]).toEqual({ when: 'user.tier == "gold"', next: 'gold' });
    expect(changed.slice(0, 2)).toEqual(rows.slice(0, 2));
    expect(rows[2].next).toBeUndefined(); // the input is not changed
    // Not connected again: no `next` key at all, as in a file.
    expect(setBranch(changed, 0, { next: undefined })[0]).toEqual({ when: 'user.orders >= 5' });
    expect(setBranch(changed, 1, { when: '' })[1]).toEqual({ when: '', next: 'big' });
  });

  it('adds last, removes any, and moves within the list only', () => {
    const rows = branchRows(value);
    expect(addBranch(rows)).toHaveLength(4);
    expect(addBranch(rows)[3]).toEqual({ when: '' });
    expect(removeBranch(rows, 1).map((r) => r.next)).toEqual(['vip', undefined]);
    expect(moveBranch(rows, 1, -1).map((r) => r.next)).toEqual(['big', 'vip', undefined]);
    expect(moveBranch(rows, 1, 1).map((r) => r.when)).toEqual(['user.orders >= 5', 'user.tier == "gold"', 'event.total > 100']);
    expect(moveBranch(rows, 0, -1)).toEqual(rows);
    expect(moveBranch(rows, 2, 1)).toEqual(rows);
  });
});

describe("update_profile's traits as rows", () => {
  it('reads a mapping in its order and writes it back', () => {
    const rows = traitRows({ tier: "'gold'", last_total: 'event.total' });
    expect(rows).toEqual([
      { trait: 'tier', value: "'gold'" },
      { trait: 'last_total', value: 'event.total' },
    ]);
    expect(traitMap(rows)).toEqual({ tier: "'gold'", last_total: 'event.total' });
    expect(traitRows(undefined)).toEqual([]);
    expect(traitRows(['tier'])).toEqual([]);
  });

  it('leaves out rows still being typed and repeated names; none left is unset', () => {
    const rows = [
      { trait: ' orders ', value: '1' },
      { trait: '', value: '2' },
      { trait: 'orders', value: '5' },
    ];
    expect(traitMap(rows)).toEqual({ orders: '1' });
    expect(traitMap([{ trait: '', value: '' }])).toBeUndefined();
    expect(traitMap([])).toBeUndefined();
  });

  it('says what is wrong with a row the server never sees', () => {
    const rows = [
      { trait: 'orders', value: '1' },
      { trait: '', value: '2' },
      { trait: 'orders', value: '5' },
      { trait: '', value: '' },
    ];
    expect(traitRowProblem(rows, 0)).toBeUndefined();
    expect(traitRowProblem(rows, 1)).toBe('give the trait a name');
    expect(traitRowProblem(rows, 2)).toMatch(/already set above/);
    expect(traitRowProblem(rows, 3)).toBeUndefined(); // a fresh empty row
  });

  it('tells rows that say the same as the mapping, whatever their order or blanks', () => {
    const rows = [
      { trait: 'b', value: '2' },
      { trait: '', value: '' },
      { trait: 'a', value: '1' },
    ];
    expect(sameTraits(rows, { a: '1', b: '2' })).toBe(true);
    expect(sameTraits(rows, { a: '1', b: '3' })).toBe(false);
    expect(sameTraits(rows, { a: '1' })).toBe(false);
    expect(sameTraits([], undefined)).toBe(true);
  });
});
