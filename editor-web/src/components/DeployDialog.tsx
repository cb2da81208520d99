import type { Change } from '../api';

export interface DeployPlan {
  changes: Change[];
  version?: number; // the running version, when there is one
  live: number; // journeys in progress on it
}

// Asks before a deploy: what changes against the running version, in words, and how
// many journeys are under way on it.
export function DeployDialog({ name, plan, onDeploy, onCancel }: { name: string; plan: DeployPlan; onDeploy: () => void; onCancel: () => void }) {
  const next = (plan.version ?? 0) + 1;
  return (
    <div className="modal-backdrop" onClick={onCancel}>
      <div className="modal" role="dialog" aria-label="Deploy" data-testid="deploy-confirm" onClick={(e) => e.stopPropagation()}>
        <h2>
          Deploy {name} as version {next}?
        </h2>
        {plan.version ? <p className="muted">Changes against the running version {plan.version}:</p> : null}
        <ul className="changes" data-testid="deploy-changes">
          {plan.changes.map((c, i) => (
            <li key={i} className={`change-${c.kind}`} data-kind={c.kind}>
              {c.text}
            </li>
          ))}
        </ul>
        <p data-testid="deploy-live">
          {plan.version
            ? `${plan.live} journey${plan.live === 1 ? ' is' : 's are'} in progress on version ${plan.version}.`
            : 'No journeys yet: this is the first version.'}
        </p>
        <div className="modal-buttons">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={onDeploy} autoFocus>
            Deploy now
          </button>
        </div>
      </div>
    </div>
  );
}
