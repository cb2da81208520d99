import { describe, expect, it } from 'vitest';
import { boxFigures, flowTotals, rate, variantFigures } from '../src/model/live';
import { statsFromJson } from '../src/model/responses';

describe('live numbers', () => {
  it('says passed for journeys that went on, ended for those that stopped at the box', () => {
    expect(boxFigures({ entered: 30, waiting: 0, exited: 0 })).toEqual({ entered: 30, waiting: 0, passed: 30, ended: 0 });
    expect(boxFigures({ entered: 30, waiting: 4, exited: 6 })).toEqual({ entered: 30, waiting: 4, passed: 20, ended: 6 });
    // The exit box: everyone who entered ended there, nobody passed.
    expect(boxFigures({ entered: 30, waiting: 0, exited: 30 })).toEqual({ entered: 30, waiting: 0, passed: 0, ended: 30 });
    expect(boxFigures(undefined)).toEqual({ entered: 0, waiting: 0, passed: 0, ended: 0 });
  });

  it('gives journeys and conversion rate per variant from the stats API', () => {
    const stats = statsFromJson({
      journeys: 40,
      live: 3,
      conversions: 5,
      nodes: [],
      variants: [
        { node: 'split', variant: 'friendly', journeys: 18, conversions: 3 },
        { node: 'split', variant: 'urgent', journeys: 16, conversions: 2 },
      ],
    });
    expect(variantFigures(stats, 'split', ['friendly', 'urgent', 'holdout'])).toEqual([
      { variant: 'friendly', journeys: 18, conversions: 3, rate: '16.7%' },
      { variant: 'urgent', journeys: 16, conversions: 2, rate: '12.5%' },
      { variant: 'holdout', journeys: 0, conversions: 0, rate: '–' },
    ]);
    expect(flowTotals(stats)).toEqual({ journeys: 40, active: 3, conversions: 5, rate: '12.5%' });
    expect(rate(1, 3)).toBe('33.3%');
  });
});
