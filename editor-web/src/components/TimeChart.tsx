// One chart over time, drawn by uPlot on a canvas (README: why uPlot). A canvas says
// nothing to a screen reader, so the chart carries its summary as its label and the
// same numbers as a table one click away.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { chartSummary, formatNumber, type ChartData } from '../model/results';

// Distinct in hue and lightness, so lines stay apart for colour-blind readers too.
const COLOURS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
const DASHES = [undefined, [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3]];

interface Props {
  id: string;
  title: string;
  data: ChartData;
  bucket: 'hour' | 'day';
  width: number;
}

export function TimeChart({ id, title, data, bucket, width }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = data.series.map((s) => s.label).join('|');

  // A new uPlot when the lines or the width change; new numbers only update it.
  useEffect(() => {
    if (!box.current) return;
    const opts: uPlot.Options = {
      width,
      height: 150,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [
        {},
        ...data.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          dash: DASHES[i % DASHES.length],
          width: 2,
          points: { show: data.times.length < 40 },
        })),
      ],
      axes: [{ space: 60 }, { size: 44 }],
    };
    const u = new uPlot(opts, [data.times, ...data.series.map((s) => s.values)], box.current);
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
  }, [shape, width]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    plot.current?.setData([data.times, ...data.series.map((s) => s.values)]);
  }, [data]);

  const summary = chartSummary(title, data);
  return (
    <figure className="chart" data-testid={`chart-${id}`}>
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={summary} data-points={data.times.length} />
      <details className="chart-table">
        <summary>Show as a table</summary>
        <table className="results-table">
          <thead>
            <tr>
              <th scope="col">{bucket === 'hour' ? 'hour' : 'day'}</th>
              {data.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.times.map((t, i) => (
              <tr key={t}>
                <th scope="row">{bucketLabel(t, bucket)}</th>
                {data.series.map((s) => (
                  <td key={s.label} data-series={s.label}>
                    {formatNumber(s.values[i])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function bucketLabel(seconds: number, bucket: 'hour' | 'day'): string {
  const d = new Date(seconds * 1000);
  return bucket === 'hour'
    ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}
