// Form widgets of the side panel. Each shows the checker's diagnostics for its
// field underneath and turns red or amber with them.
import { useEffect, useState, type ReactNode } from 'react';
import { WEEKDAYS, toggleWeekday, type Diagnostic } from '../model/ir';
import { durationSeconds, humanDuration, normalizeDuration, previewTemplate, splitDuration } from '../model/text';
import { shownMessage, worstSeverity } from '../model/diagnostics';

export const EVENT_TYPES_LIST = 'trellis-event-types';

interface FieldProps {
  name: string; // field path, e.g. "next" or "variants.a.weight"
  label: string;
  diagnostics: Diagnostic[];
  hint?: ReactNode;
  children: ReactNode;
}

export function Field({ name, label, diagnostics, hint, children }: FieldProps) {
  const sev = worstSeverity(diagnostics);
  return (
    <div className={`field ${sev ? `has-${sev}` : ''}`} data-field={name} data-severity={sev ?? ''}>
      <label htmlFor={`f-${name}`}>{label}</label>
      {children}
      {hint && <div className="field-hint">{hint}</div>}
      {diagnostics.map((d, i) => (
        <div key={i} className={`field-msg ${d.severity}`} data-testid="field-diag">
          {shownMessage(d)}
        </div>
      ))}
    </div>
  );
}

interface InputProps {
  name: string;
  value: string | undefined;
  onChange: (v: string) => void;
  placeholder?: string;
  list?: string;
}

export function TextInput({ name, value, onChange, placeholder, list }: InputProps) {
  return (
    <input
      id={`f-${name}`}
      name={name}
      value={value ?? ''}
      placeholder={placeholder}
      list={list}
      autoComplete="off"
      spellCheck={false}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

// A text input whose value is committed on blur or Enter (for ids: renaming on each
// keystroke would rename references to half-typed names).
export function CommitInput({ name, value, onCommit }: { name: string; value: string; onCommit: (v: string) => void }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <input
      id={`f-${name}`}
      name={name}
      value={draft}
      autoComplete="off"
      spellCheck={false}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => draft !== value && onCommit(draft)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        if (e.key === 'Escape') setDraft(value);
      }}
    />
  );
}

export function ExpressionInput({ name, value, onChange, placeholder }: InputProps) {
  return (
    <textarea
      id={`f-${name}`}
      name={name}
      className="mono"
      rows={2}
      value={value ?? ''}
      placeholder={placeholder}
      spellCheck={false}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

export function TemplateInput({
  name,
  value,
  onChange,
  context,
  rows = 2,
}: InputProps & { context: Record<string, unknown>; rows?: number }) {
  const parts = previewTemplate(value ?? '', context);
  return (
    <>
      <textarea
        id={`f-${name}`}
        name={name}
        rows={rows}
        value={value ?? ''}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
      />
      {value ? (
        <div className="preview" data-testid="template-preview">
          <span className="preview-label">preview</span>
          {parts.map((p, i) => (
            <span key={i} className={p.missing ? 'missing' : undefined}>
              {p.text}
            </span>
          ))}
        </div>
      ) : null}
    </>
  );
}

// Number + unit for the common forms ("72h"); other spellings (ISO 8601) stay text.
export function DurationInput({ name, value, onChange }: InputProps) {
  const split = splitDuration(value);
  const [raw, setRaw] = useState(split === null);
  if (raw || split === null) {
    const secs = value ? durationSeconds(value) : null;
    return (
      <div className="duration">
        <input
          id={`f-${name}`}
          name={name}
          className="mono"
          value={value ?? ''}
          placeholder="72h, 2 days, PT72H"
          onChange={(e) => onChange(e.target.value)}
          onBlur={(e) => {
            // "2 days" becomes the flow's "2d" (and the simple widget can show it).
            const canonical = normalizeDuration(e.target.value);
            if (canonical && canonical !== e.target.value) {
              onChange(canonical);
              setRaw(false);
            }
          }}
        />
        {split !== null && (
          <button type="button" className="link" onClick={() => setRaw(false)}>
            simple
          </button>
        )}
        {value && <span className="field-hint">{secs === null ? 'not a duration' : humanDuration(secs)}</span>}
      </div>
    );
  }
  const secs = value ? durationSeconds(value) : null;
  return (
    <div className="duration">
      <input
        id={`f-${name}`}
        name={name}
        type="number"
        min={0}
        value={split.amount}
        onChange={(e) => onChange(e.target.value === '' ? '' : `${e.target.value}${split.unit}`)}
      />
      <select
        aria-label={`${name} unit`}
        name={`${name}-unit`}
        value={split.unit}
        onChange={(e) => split.amount && onChange(`${split.amount}${e.target.value}`)}
      >
        <option value="s">seconds</option>
        <option value="m">minutes</option>
        <option value="h">hours</option>
        <option value="d">days</option>
      </select>
      <button type="button" className="link" onClick={() => setRaw(true)}>
        text
      </button>
      {secs !== null && <span className="field-hint">{humanDuration(secs)}</span>}
    </div>
  );
}

// A wall-clock time, "HH:MM" (24-hour). The browser's time picker gives "HH:MM"
// too; a value it cannot show (say "25:00" from a file) stays editable as text.
export function TimeInput({ name, value, onChange }: InputProps) {
  const pickable = !value || /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
  return (
    <input
      id={`f-${name}`}
      name={name}
      type={pickable ? 'time' : 'text'}
      className="mono"
      value={value ?? ''}
      placeholder="10:00"
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

// Seven toggles, Monday first; none on means every day.
export function WeekdayToggles({
  name,
  value,
  onChange,
}: {
  name: string;
  value: string[] | undefined;
  onChange: (v: string[] | undefined) => void;
}) {
  return (
    <div className="weekdays" role="group" aria-label={name} id={`f-${name}`}>
      {WEEKDAYS.map((day) => {
        const on = value?.includes(day) ?? false;
        return (
          <button
            key={day}
            type="button"
            name={`${name}.${day}`}
            className={on ? 'weekday on' : 'weekday'}
            aria-pressed={on}
            onClick={() => onChange(toggleWeekday(value, day))}
          >
            {day}
          </button>
        );
      })}
    </div>
  );
}

export function TargetSelect({
  name,
  value,
  options,
  onChange,
}: {
  name: string;
  value: string | undefined;
  options: string[];
  onChange: (v: string | undefined) => void;
}) {
  const known = value === undefined || options.includes(value);
  return (
    <select id={`f-${name}`} name={name} value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)}>
      <option value="">— not connected —</option>
      {!known && <option value={value}>{value} (missing)</option>}
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
}
