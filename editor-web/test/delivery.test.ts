import { describe, expect, it } from 'vitest';
import {
  emptyFunnel,
  figuresText,
  formatOffset,
  funnelLines,
  funnelTable,
  messageFunnelsFromJson,
  offsetSeconds,
  outcomeSummary,
  percent,
  releaseText,
  simOutcome,
  reasonParts,
  liveFunnel,
} from '../src/model/delivery';
import { simResultFromJson, statsFromJson } from '../src/model/responses';

const smsA = {
  node: 'sms_a', channel: 'sms', created: 130, sent: 120, deferred: 3, suppressed: 5, dropped: 0, dead: 0,
  delivered: 118, opened: 40, clicked: 12, bounced: 2, complained: 0,
};

describe('message funnels from GET /v1/flows/{name}/stats', () => {
  it('keys each message node by its id with every count', () => {
    const stats = statsFromJson({ journeys: 1, nodes: [], variants: [], messages: [smsA] });
    expect(stats.messages?.sms_a).toEqual(smsA);
  });

  it('is absent when the server does not report messages (older server)', () => {
    expect(statsFromJson({ journeys: 1, nodes: [] }).messages).toBeUndefined();
    expect(messageFunnelsFromJson(undefined)).toBeUndefined();
  });

  it('reads missing or odd counts as zero and skips entries without a node', () => {
    const funnels = messageFunnelsFromJson([{ node: 'mail', channel: 'email', sent: 'lots', delivered: -1 }, { sent: 3 }, null]);
    expect(Object.keys(funnels!)).toEqual(['mail']);
    expect(funnels!.mail).toEqual(emptyFunnel('mail', 'email'));
  });
});

describe('the funnel on a message box', () => {
  it('shows how far messages got, then what held them back, in words', () => {
    const { progress, setbacks } = funnelLines(smsA);
    expect(figuresText(progress)).toBe('sent 120 · delivered 118 · opened 40 · clicked 12');
    expect(figuresText(setbacks)).toBe('deferred 3 · suppressed 5 · bounced 2');
  });

  it('always shows sent, and leaves out zero feedback and zero setbacks', () => {
    const { progress, setbacks } = funnelLines({ ...emptyFunnel('mail', 'email'), created: 2, sent: 2, delivered: 1 });
    expect(figuresText(progress)).toBe('sent 2 · delivered 1');
    expect(setbacks).toEqual([]);
    expect(figuresText(funnelLines(emptyFunnel('x', 'sms')).progress)).toBe('sent 0');
  });
});

describe('the funnel table in the side panel', () => {
  it('gives statuses as shares of created and feedback as shares of sent', () => {
    const rows = Object.fromEntries(funnelTable(smsA).map((r) => [r.key, r]));
    expect(rows.created.share).toBe('');
    expect(rows.sent.share).toBe('92%'); // 120 of 130
    expect(rows.suppressed.share).toBe('3.8%');
    expect(rows.delivered.share).toBe('98%'); // 118 of 120
    expect(rows.delivered.of).toBe('sent');
    expect(rows.queued.count).toBe(2); // 130 − 120 − 3 − 5
    expect(funnelTable(smsA).map((r) => r.key)).toEqual([
      'created', 'sent', 'queued', 'deferred', 'suppressed', 'dropped', 'dead', 'delivered', 'opened', 'clicked', 'bounced', 'complained',
    ]);
  });

  it('has no queued row when every message has a status, and no share of nothing', () => {
    const rows = funnelTable(emptyFunnel('mail', 'email'));
    expect(rows.some((r) => r.key === 'queued')).toBe(false);
    expect(rows.find((r) => r.key === 'delivered')!.share).toBe('–');
    expect(percent(1, 3)).toBe('33%');
    expect(percent(1, 1000)).toBe('0.1%');
    expect(percent(0, 5)).toBe('0%');
  });
});

describe('simulated messages under governed delivery', () => {
  it('reads offsets the way the simulator writes them', () => {
    expect(offsetSeconds('0s')).toBe(0);
    expect(offsetSeconds('72h')).toBe(72 * 3600);
    expect(offsetSeconds('26h30m5s')).toBe(26 * 3600 + 30 * 60 + 5);
    expect(offsetSeconds('1d')).toBe(86400);
    expect(offsetSeconds('soon')).toBeNull();
    expect(formatOffset(26 * 3600 + 30 * 60)).toBe('26h30m');
    expect(formatOffset(0)).toBe('0s');
  });

  it('names what became of each message', () => {
    expect(simOutcome({})).toBe('sent'); // an older server: no status
    expect(simOutcome({ status: 'pending', at: '1h', releaseOffset: '1h' })).toBe('sent');
    expect(simOutcome({ status: 'sent', at: '1h', releaseOffset: '17h' })).toBe('sent-late');
    expect(simOutcome({ status: 'deferred', at: '1h', releaseOffset: '17h' })).toBe('deferred');
    expect(simOutcome({ status: 'suppressed' })).toBe('suppressed');
    expect(simOutcome({ status: 'dropped' })).toBe('dropped');
    expect(simOutcome({ status: 'dead' })).toBe('failed');
    expect(outcomeSummary(['sent', 'suppressed', 'sent', 'sent-late'])).toBe('2 would be sent · 1 deferred, then sent · 1 suppressed');
  });

  it('parses status, reason and release time from POST /v1/simulate', () => {
    const result = simResultFromJson({
      start: '2026-01-01T00:00:00Z',
      journeys: [{
        state: 'completed',
        steps: [
          { node: 'sms_a', offset: '0s', reason: 'sms queued; deferred until 2026-01-02T08:00:00Z (cap sms 2/1d)' },
          { node: 'mail', offset: '0s', reason: 'email queued; not sent: user sample_user unsubscribed from email at 2025-12-31T00:00:00Z (api)' },
        ],
      }],
      deliveries: [
        {
          channel: 'sms', node: 'sms_a', offset: '0s', to: '+15550100', body: 'hi', status: 'deferred',
          reason: 'deferred until 2026-01-02T08:00:00Z (cap sms 2/1d)', release_at: '2026-01-02T08:00:00Z', priority: 50, category: 'marketing',
        },
        { channel: 'email', node: 'mail', offset: '0s', status: 'suppressed', reason: 'not sent: user sample_user unsubscribed from email' },
        { channel: 'coupon', node: 'give_coupon', offset: '0s', body: 'C-001' },
      ],
    });
    const [sms, mail, coupon] = result.deliveries;
    expect(sms).toMatchObject({ status: 'deferred', outcome: 'deferred', releaseOffset: '32h', releaseAt: '2026-01-02T08:00:00Z', priority: 50, category: 'marketing' });
    expect(sms.reason).toMatch(/cap sms 2\/1d/);
    expect(releaseText(sms)).toBe('32h (2026-01-02T08:00:00Z)');
    expect(mail).toMatchObject({ outcome: 'suppressed', releaseAt: undefined });
    expect(coupon).toMatchObject({ outcome: 'sent', status: undefined, reason: undefined });
    expect(result.steps[0].reason).toMatch(/deferred until/);
  });

  it('takes a release offset the server gives, and the outbox reason under its store name', () => {
    const [d] = simResultFromJson({
      deliveries: [{ channel: 'sms', node: 's', offset: '1h', status: 'sent', release_offset: '9h', last_error: 'deferred until … (quiet hours 21:00–08:00 Europe/Berlin)' }],
    }).deliveries;
    expect(d.outcome).toBe('sent-late');
    expect(releaseText(d)).toBe('9h');
    expect(d.reason).toMatch(/quiet hours/);
  });
});

describe('a simulated step reason', () => {
  it('splits into clauses with the delivery rules’ verdicts marked', () => {
    expect(reasonParts('sms queued; deferred until 2026-01-02T08:00:00Z (cap sms 2/1d)')).toEqual([
      { text: 'sms queued' },
      { text: 'deferred until 2026-01-02T08:00:00Z (cap sms 2/1d)', verdict: 'deferred' },
    ]);
    expect(reasonParts('email queued; not sent: user u1 unsubscribed from sms at 2026-01-01T00:00:00Z')[1].verdict).toBe('suppressed');
    expect(reasonParts('dropped: cap sms 2/1d (on_cap: skip)')).toEqual([{ text: 'dropped: cap sms 2/1d (on_cap: skip)', verdict: 'dropped' }]);
    expect(reasonParts('match was true')).toEqual([{ text: 'match was true' }]);
  });
});

describe('the live funnel of a node', () => {
  it('belongs to message nodes only, with zeros before the first message', () => {
    const messages = { sms_a: smsA };
    expect(liveFunnel(messages, { id: 'sms_a', type: 'sms' })).toBe(smsA);
    expect(liveFunnel(messages, { id: 'mail', type: 'email' })).toEqual(emptyFunnel('mail', 'email'));
    expect(liveFunnel(messages, { id: 'pick', type: 'segment' })).toBeUndefined();
    expect(liveFunnel(undefined, { id: 'sms_a', type: 'sms' })).toBeUndefined();
  });
});
