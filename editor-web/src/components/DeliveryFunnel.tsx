import { funnelLines, funnelTable, type FunnelFigure, type MessageFunnel } from '../model/delivery';

function Figures({ figures }: { figures: FunnelFigure[] }) {
  return figures.map((x, i) => (
    <span key={x.key}>
      {i > 0 && ' · '}
      <span className="figure">
        {x.key} <b data-funnel={x.key}>{x.count}</b>
      </span>
    </span>
  ));
}

// The live funnel on a message box: how far its messages got, and (muted, when any)
// what held them back or went wrong.
export function FunnelLines({ funnel }: { funnel: MessageFunnel }) {
  const { progress, setbacks } = funnelLines(funnel);
  return (
    <div className="fnode-funnel" data-testid="node-funnel">
      <div>
        <Figures figures={progress} />
      </div>
      {setbacks.length > 0 && (
        <div className="muted" data-testid="node-funnel-setbacks">
          <Figures figures={setbacks} />
        </div>
      )}
    </div>
  );
}

// The side panel's table of a message node's deliveries in the deployed flow.
export function FunnelTable({ funnel }: { funnel: MessageFunnel }) {
  return (
    <div className="field" data-testid="funnel-table">
      <label>Live delivery</label>
      <table className="funnel">
        <tbody>
          {funnelTable(funnel).map((r) => (
            <tr key={r.key} data-row={r.key} title={r.meaning}>
              <th>{r.key}</th>
              <td className="num">{r.count}</td>
              <td className="num muted" title={r.share ? `of ${r.of}` : undefined}>
                {r.share}
              </td>
              <td className="muted small">{r.meaning}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="field-hint">Shares: statuses of the messages created, feedback of the messages sent.</div>
    </div>
  );
}
