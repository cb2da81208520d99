import { describe, expect, it } from 'vitest';
import { durationSeconds, humanDuration, previewTemplate, splitDuration } from '../src/model/text';
import { createHistory, push, redo, undo, canUndo } from '../src/model/history';

describe('durations', () => {
  it.each([
    ['72h', 259200], ['90s', 90], ['30m', 1800], ['7d', 604800], ['PT72H', 259200], ['P1DT2H', 93600],
    ['', null], ['72', null], ['PT', null], ['h', null],
  ])('%s → %s', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });
  it('reads for people and splits for the widget', () => {
    expect(humanDuration(259200)).toBe('3 days');
    expect(humanDuration(5400)).toBe('1 hour 30 minutes');
    expect(splitDuration('72h')).toEqual({ amount: '72', unit: 'h' });
    expect(splitDuration('PT72H')).toBeNull();
  });
});

describe('template preview', () => {
  const ctx = { user: { first_name: 'Ana', interests: ['education', 'art'] }, coupon: { code: 'C-001' } };
  const render = (t: string) => previewTemplate(t, ctx).map((p) => p.text).join('');
  it('fills paths from the sample', () => {
    expect(render('Hi {{user.first_name}}, use {{ coupon.code }}')).toBe('Hi Ana, use C-001');
    expect(render('{{user.interests}}')).toBe('education, art');
  });
  it('uses the default, else flags what the sample lacks', () => {
    expect(render('{{user.city | default: "there"}}')).toBe('there');
    const parts = previewTemplate('x {{user.nme}}', ctx);
    expect(parts[1]).toEqual({ text: '[user.nme]', missing: true });
  });
  it('applies the default to empty text, false and an empty list, as the server does', () => {
    const blank = { user: { first_name: '', vip: false, tags: [] as string[], n: 0 } };
    const show = (t: string) => previewTemplate(t, blank).map((p) => p.text).join('');
    expect(show('Hi {{user.first_name | default: "there"}},')).toBe('Hi there,');
    expect(show('{{user.vip | default: "no"}} {{user.tags | default: "none"}}')).toBe('no none');
    expect(show('{{user.n | default: "none"}}')).toBe('0');
  });
});

describe('undo and redo', () => {
  it('steps back and forth, coalescing typing into one field', () => {
    let h = createHistory('a');
    h = push(h, 'ab', 'field:x', 1000);
    h = push(h, 'abc', 'field:x', 1500);
    h = push(h, 'abcd', 'other', 1600);
    expect(h.past).toEqual(['a', 'abc']);
    h = undo(h);
    expect(h.present).toBe('abc');
    h = undo(h);
    expect(h.present).toBe('a');
    expect(canUndo(h)).toBe(false);
    h = redo(redo(h));
    expect(h.present).toBe('abcd');
    h = undo(h);
    h = push(h, 'new');
    expect(h.future).toEqual([]);
  });
});

describe('durations as people write them', () => {
  it('reads "2 days" and friends in the flow\'s own syntax', async () => {
    const { normalizeDuration, durationSeconds } = await import('../src/model/text');
    expect(normalizeDuration('2 days')).toBe('2d');
    expect(normalizeDuration(' 1 day ')).toBe('1d');
    expect(normalizeDuration('48 hours')).toBe('48h');
    expect(normalizeDuration('30 min')).toBe('30m');
    expect(normalizeDuration('90 Seconds')).toBe('90s');
    expect(normalizeDuration('1 week')).toBe('7d');
    expect(normalizeDuration('72h')).toBe('72h');
    expect(normalizeDuration('PT72H')).toBeNull();
    expect(normalizeDuration('2 fortnights')).toBeNull();
    expect(normalizeDuration('days')).toBeNull();
    expect(durationSeconds('2 days')).toBe(172800);
  });
});
