import { describe, expect, it } from 'vitest';
import {
  diagnosticsFor,
  handlesWithDiagnostics,
  indexDiagnostics,
  nodeLevel,
  plainHelp,
  shownMessage,
  worstSeverity,
} from '../src/model/diagnostics';
import type { Diagnostic } from '../src/model/ir';
import { cartReminder } from './fixtures';

const d = (node: string, field: string, message: string, severity: 'error' | 'warning' = 'error'): Diagnostic => ({
  severity, message, node, field, line: 1, column: 1,
});

describe('diagnostics → node and field', () => {
  const list = [
    d('mail', 'next', 'missing target for `next`'),
    d('nudge', 'variants.b.next', 'unknown node `smsb`'),
    d('mail', 'subject', 'template names `user.nme`', 'warning'),
    d('pick', '', 'node is never reached', 'warning'),
    d('', 'start', 'start names no node'),
  ];
  const index = indexDiagnostics(list);

  it('counts errors and warnings', () => {
    expect([index.errors, index.warnings]).toEqual([3, 2]);
  });

  it('finds a diagnostic by its node and field', () => {
    expect(diagnosticsFor(index, 'mail', 'next').map((x) => x.message)).toEqual(['missing target for `next`']);
    expect(diagnosticsFor(index, 'mail', 'body')).toEqual([]);
    expect(worstSeverity(index.byNode.get('mail')!)).toBe('error');
    expect(worstSeverity(index.byNode.get('pick')!)).toBe('warning');
  });

  it('finds a variant diagnostic by the full path and by `variants`', () => {
    expect(diagnosticsFor(index, 'nudge', 'variants.b.next')).toHaveLength(1);
    expect(diagnosticsFor(index, 'nudge', 'variants.b')).toHaveLength(1);
    expect(diagnosticsFor(index, 'nudge', 'variants')).toHaveLength(1);
  });

  it('keeps flow-level diagnostics apart, still findable by field', () => {
    expect(index.flow.map((x) => x.field)).toEqual(['start']);
    expect(diagnosticsFor(index, '', 'start')).toHaveLength(1);
  });

  it('marks the handle of a slot whose target is wrong', () => {
    const flow = cartReminder();
    expect([...handlesWithDiagnostics(flow, index, 'mail')]).toEqual([['next', 'error']]);
    expect([...handlesWithDiagnostics(flow, index, 'nudge')]).toEqual([['variant:b', 'error']]);
    expect(handlesWithDiagnostics(flow, index, 'sms_a').size).toBe(0);
  });

  it('lists at node level what no shown field carries', () => {
    expect(nodeLevel(index, 'pick', ['match', 'yes', 'no']).map((x) => x.message)).toEqual(['node is never reached']);
    expect(nodeLevel(index, 'mail', ['subject', 'body'])).toHaveLength(1);
    expect(nodeLevel(index, 'mail', ['subject', 'body', 'next'])).toHaveLength(0);
  });
});

describe('what the editor says', () => {
  it('shows the plain sentence, else the message without code quotes', () => {
    const precise = "sms node 'sms_a' needs 'next'";
    expect(shownMessage({ severity: 'error', message: precise, plain: "Connect 'Sms a' to the next step." })).toBe(
      "Connect 'Sms a' to the next step.",
    );
    expect(shownMessage({ severity: 'error', message: 'write `after 30d`' })).toBe('write after 30d');
    expect(plainHelp('Waits `for` a while')).toBe('Waits for a while');
  });
});
