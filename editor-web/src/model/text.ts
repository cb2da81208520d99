// Small helpers for field widgets: durations shown to people, and a preview of a
// message template against a sample user. The server stays the judge of both (the
// checker validates them); these only make the form friendlier.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

const UNIT_WORDS: Record<string, string> = {
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  m: 'm', min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  d: 'd', day: 'd', days: 'd',
  w: 'w', week: 'w', weeks: 'w',
};

// What people write ("2 days", "48 hours", "30 min", "1 week") in the flow's own
// duration syntax ("2d", "48h", "30m", "7d"); null when it is no such phrase (ISO
// 8601 and the like stay as written for the checker to judge).
export function normalizeDuration(text: string): string | null {
  const m = /^(\d+)\s*([a-z]+)\.?$/i.exec(text.trim());
  const unit = m && UNIT_WORDS[m[2].toLowerCase()];
  if (!m || !unit) return null;
  const n = Number(m[1]);
  return unit === 'w' ? `${n * 7}d` : `${n}${unit}`;
}

// "72h", "90s", "7d", "2 days" or ISO 8601 "PT72H" / "P1DT2H" → seconds; null when not
// a duration.
export function durationSeconds(text: string): number | null {
  const t = normalizeDuration(text) ?? text.trim();
  const simple = /^(\d+)\s*([smhdw])$/.exec(t);
  if (simple) return Number(simple[1]) * UNIT_SECONDS[simple[2]];
  const iso = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(t);
  if (iso && t.length > 1 && !/T$/i.test(t)) {
    const [, w, d, h, m, s] = iso.map((x) => (x ? Number(x) : 0));
    return w * 604800 + d * 86400 + h * 3600 + m * 60 + s;
  }
  return null;
}

export function humanDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    rest -= n * size;
  }
  return parts.length ? parts.join(' ') : '0 seconds';
}

// Splits "72h" into number and unit for the number + unit widget; null for other forms.
export function splitDuration(text: string | undefined): { amount: string; unit: string } | null {
  if (text === undefined || text === '') return { amount: '', unit: 'h' };
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  return m ? { amount: m[1], unit: m[2] } : null;
}

function lookup(context: Record<string, unknown>, path: string): unknown {
  let cur: unknown = context;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export interface PreviewPart {
  text: string;
  missing?: boolean; // a path the sample could not supply
}

// Renders `{{path}}` and `{{path | default: "x"}}` for the preview. A missing path
// renders as the path in brackets, flagged, so the user sees what the sample lacks.
export function previewTemplate(template: string, context: Record<string, unknown>): PreviewPart[] {
  const parts: PreviewPart[] = [];
  const re = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*default\s*:\s*"((?:[^"\\]|\\.)*)"\s*)?\}\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) });
    const value = lookup(context, m[1]);
    // As Liquid's `default` (and the server's templates): empty text, false and
    // an empty list take the default too.
    const blank = value === '' || value === false || (Array.isArray(value) && value.length === 0);
    if (value === undefined || value === null || (blank && m[2] !== undefined)) {
      if (m[2] !== undefined) parts.push({ text: m[2].replace(/\\(.)/g, '$1') });
      else parts.push({ text: `[${m[1]}]`, missing: true });
    } else {
      parts.push({ text: Array.isArray(value) ? value.join(', ') : String(value) });
    }
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  return parts;
}
