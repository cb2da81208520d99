import {
  Background,
  Controls,
  MarkerType,

  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  getViewportForBounds,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type NodePositionChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import * as api from '../api';
import type { FlowStats, SimResult } from '../api';
import { liveFunnel } from '../model/delivery';
import { flowTotals, variantFigures } from '../model/live';
import { handlesWithDiagnostics, indexDiagnostics, shownMessage, worstSeverity } from '../model/diagnostics';
import {
  addNode,
  connect,
  disconnect,

  flowToGraph,
  removeNodes,
  slotsOf,
  renameNode,
  updateNode,
  type Position,
} from '../model/graph';
import { canRedo, canUndo, createHistory, push, redo, replace, undo, type History } from '../model/history';
import { cleanFlow, emptyFlow, freshId, goalParts, untilEventType, type Diagnostic, type Flow, type NodeType } from '../model/ir';
import { kindLabel, newNode, setKinds } from '../model/kinds';
import { boxHandles, freeSpot, gridPositions, NODE_HEIGHT, NODE_WIDTH, plainBox, routeFits, TRIGGER_HANDLE, TRIGGER_ID, type Box, type Size } from '../model/layout';
import { draftStatus, mayLeave, setUnsaved } from '../model/drafts';
import { EVENT_TYPES_LIST } from './fields';
import { DeployDialog, type DeployPlan } from './DeployDialog';
import { FlowLifecycle } from './FlowLifecycle';
import { FlowNode, type FlowNodeData, type FlowNodeType } from './FlowNode';
import { RoutedEdge, type RoutedEdgeType } from './RoutedEdge';
import { TriggerNode, type TriggerNodeType } from './TriggerNode';
import { startLayout, useElkLayout } from './useElkLayout';
import { FlowPanel, NodePanel } from './SidePanel';
import { ReplayPanel } from './ReplayPanel';
import { buildSimRequest, defaultSimInput, parseUser, SimulatePanel, type SimFailure, type SimInput } from './SimulatePanel';
import { emptyPathReason, simErrorPlace, simErrorText } from '../model/simulate';
import { funnelByNode, statsQuery, type RangeName, type Results } from '../model/results';
import { ResultsPanel } from './ResultsPanel';

interface Doc {
  flow: Flow;
  positions: Record<string, Position>;
}

const nodeTypes = { trellis: FlowNode, trigger: TriggerNode };
const edgeTypes = { routed: RoutedEdge };
type CanvasNode = FlowNodeType | TriggerNodeType;
// Box text is 12 px or more: at this zoom it is still 11 px on screen, so the first view
// of a large flow shows its top readable rather than all of it too small to read.
const NO_EDGES: RoutedEdgeType[] = [];
const READABLE_ZOOM = 11 / 12;
// From this many boxes on, the canvas draws only the boxes and arrows in view (a 60-node
// flow stands about 10,000 px tall and shows a screenful of it): drawing all of them
// was most of the main thread's time while it opened and on each selection. Smaller
// flows draw every box, so Tab reaches each of them.
const DRAW_IN_VIEW_FROM = 40;
// Short enough that the verdict shows within 300 ms of the last key on a 60-node flow.
const CHECK_DEBOUNCE_MS = 150;
const STATS_REFRESH_MS = 2000;
// The results dashboard asks for its numbers again this often while it is open.
const RESULTS_REFRESH_MS = 3000;
const DND_TYPE = 'application/x-trellis-node';
const SIDE_KEY = 'trellis.side-panel';

export function Editor(props: { name: string; isNew: boolean }) {
  return (
    <ReactFlowProvider>
      <EditorInner {...props} />
    </ReactFlowProvider>
  );
}

// `next` unless it shows the same as `prev`: the same IR node, equal figures.
function sameBoxData(prev: FlowNodeData | undefined, next: FlowNodeData): FlowNodeData {
  if (!prev) return next;
  for (const k of Object.keys({ ...prev, ...next })) {
    const a = prev[k];
    const b = next[k];
    if (a === b) continue;
    if (k === 'node' || typeof a !== 'object' || typeof b !== 'object' || JSON.stringify(a) !== JSON.stringify(b)) return next;
  }
  return prev;
}

// A box drawn without extra lines (no live numbers, results or funnel) has the size and
// handles model/layout.ts knows without drawing it: React Flow is given them, so the
// flow is laid out and fitted before any box is drawn, and a box out of view is not
// drawn at all. Other boxes are drawn and measured.
function knownBox(n: CanvasNode): { measured: Size; handles: ReturnType<typeof boxHandles> } | null {
  let box;
  if (n.type === 'trigger') box = n.data.entered === undefined ? plainBox([TRIGGER_HANDLE], false) : null;
  else {
    const d = n.data;
    const extra = d.counts || d.funnel || d.variantFigures || d.funnelFigure;
    box = extra ? null : plainBox(slotsOf(d.node).map((s) => s.handle));
  }
  return box && { measured: { width: box.width, height: box.height }, handles: boxHandles(box) };
}

function serialize(flow: Flow): string {
  return JSON.stringify(cleanFlow(flow));
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

// Says why a write failed in the user's words: the checker's count, or the server's.
function failure(err: api.ApiError): string {
  const errors = err.diagnostics?.filter((d) => d.severity === 'error').length ?? 0;
  if (errors) return `${errors} error${errors === 1 ? '' : 's'} in the flow; fix the marked fields first`;
  return err.message;
}

// Box positions are the editor's own (the flow file has none): kept per browser so a
// hand-made arrangement survives a reload. Used only when they cover every node.
const POSITIONS_KEY = (name: string) => `trellis.positions.${name}`;

function storedPositions(name: string, flow: Flow): Record<string, Position> | null {
  try {
    const p = JSON.parse(localStorage.getItem(POSITIONS_KEY(name)) ?? 'null') as Record<string, Position> | null;
    if (p && flow.nodes.length > 0 && flow.nodes.every((n) => p[n.id])) return p;
  } catch {
    /* unreadable: lay out afresh */
  }
  return null;
}

function EditorInner({ name, isNew }: { name: string; isNew: boolean }) {
  const rf = useReactFlow();
  const canvasRef = useRef<HTMLDivElement>(null);
  const [history, setHistory] = useState<History<Doc> | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string>('');
  const [onServer, setOnServer] = useState(!isNew);
  const [version, setVersion] = useState<number | undefined>();
  // The saved file differs from the running version (saved, not deployed).
  const [undeployed, setUndeployed] = useState(false);
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [checkState, setCheckState] = useState<'idle' | 'checking' | 'failed'>('idle');
  const [selected, setSelected] = useState<string[]>([]);
  const [selectedEdges, setSelectedEdges] = useState<string[]>([]);
  const [rfNodes, setRfNodes] = useState<CanvasNode[]>([]);
  const [needsLayout, setNeedsLayout] = useState(false);
  const [panel, setPanel] = useState<'edit' | 'simulate' | 'replay' | 'results'>('edit');
  const [results, setResults] = useState<Results | null>(null);
  const [resultsError, setResultsError] = useState<string | null>(null);
  const [resultsAt, setResultsAt] = useState<Date | null>(null);
  const [resultsRefresh, setResultsRefresh] = useState(0);
  const [range, setRange] = useState<RangeName>('24h');
  const [live, setLive] = useState(false);
  const [stats, setStats] = useState<FlowStats | null>(null);
  const [simInput, setSimInput] = useState<SimInput | null>(null);
  const [simResult, setSimResult] = useState<SimResult | null>(null);
  const [simError, setSimError] = useState<SimFailure | null>(null);
  const [simSentTypes, setSimSentTypes] = useState<string[]>([]);
  // Until the user edits the simulation's inputs they follow the flow's trigger.
  const simTouched = useRef(false);
  const [simRunning, setSimRunning] = useState(false);
  const [recentTypes, setRecentTypes] = useState<string[]>([]);
  const [schemas, setSchemas] = useState<api.KindSchema[]>([]);
  // 'draft': saved with errors; its text follows the errors there are now (drafts.ts).
  const [status, setStatus] = useState<{ kind: 'ok' | 'error' | 'info' | 'draft'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [showProblems, setShowProblems] = useState(false);
  // The draft file's own reading errors (api.fileReadErrors), until a Save rewrites it.
  const [fileErrors, setFileErrors] = useState<Diagnostic[]>([]);

  const doc = history?.present;
  const flow = doc?.flow;

  // ---- load ----
  useEffect(() => {
    let alive = true;
    performance.mark('trellis:open');
    const start = (f: Flow, v?: number, state?: string) => {
      performance.mark('trellis:flow-loaded');
      setUndeployed(state === 'modified');
      if (!alive) return;
      startLayout(f); // ELK works while React draws the editor
      const stored = storedPositions(name, f);
      setNeedsLayout(!stored);
      setHistory(createHistory({ flow: f, positions: stored ?? gridPositions(f) }));
      setSaved(isNew ? '' : serialize(f));
      setVersion(v);
      setSimInput(defaultSimInput(f));
      simTouched.current = false;
    };
    if (isNew) start(emptyFlow(name));
    else
      api
        .getFlow(name)
        .then((r) => {
          start(r.flow, r.version, r.state);
          if (r.state === 'modified') api.fileReadErrors(name).then((d) => alive && setFileErrors(d), () => {});
        })
        .catch((e: Error) => alive && setLoadError(e.message));
    api.recentEventTypes().then((t) => alive && setRecentTypes(t), () => {});
    api.nodeSchemas().then(
      (k) => {
        if (!alive) return;
        setKinds(k); // before the state change, so the re-render sees the labels
        setSchemas(k);
      },
      () => {},
    );
    return () => {
      alive = false;
    };
  }, [name, isNew]);

  // ---- edits ----
  const apply = useCallback((change: (d: Doc) => Doc, key?: string) => {
    setHistory((h) => (h ? push(h, change(h.present), key) : h));
  }, []);
  const editFlow = useCallback(
    (update: (f: Flow) => Flow, key?: string) => apply((d) => ({ ...d, flow: update(d.flow) }), key),
    [apply],
  );

  const dirty = !!flow && (!onServer || serialize(flow) !== saved);

  // ---- layout (ELK) ----
  const applyPositions = useCallback((positions: Record<string, Position>, how: 'replace' | 'push') => {
    setHistory((h) => {
      if (!h) return h;
      const d = { ...h.present, positions: { ...h.present.positions, ...positions } };
      return how === 'push' ? push(h, d) : replace(h, d);
    });
  }, []);
  const { layout: elkLayout, ready: layoutReady, relayout, applied: layoutsApplied } = useElkLayout(flow, doc?.positions, needsLayout, applyPositions);

  // ---- live check, debounced ----
  const flowText = flow ? serialize(flow) : '';
  useEffect(() => {
    if (!flowText) return;
    let alive = true;
    setCheckState('checking');
    const t = setTimeout(() => {
      api
        .checkFlow(JSON.parse(flowText))
        .then((d) => alive && (performance.mark('trellis:checked'), setDiagnostics(d), setCheckState('idle')))
        .catch(() => alive && setCheckState('failed'));
    }, CHECK_DEBOUNCE_MS);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [flowText]);

  // A flow with no step yet is not wrong, only new: it gets guidance, not red marks.
  const fresh = !!flow && flow.nodes.length === 0;
  const index = useMemo(() => indexDiagnostics(fresh ? [] : diagnostics), [diagnostics, fresh]);
  const [sideOpen, setSideOpen] = useState(() => localStorage.getItem(SIDE_KEY) !== 'closed');
  useEffect(() => localStorage.setItem(SIDE_KEY, sideOpen ? 'open' : 'closed'), [sideOpen]);

  // ---- live counts ----
  useEffect(() => {
    if (!live || !version) return;
    let alive = true;
    const load = () =>
      api.getStats(name).then(
        (s) => alive && setStats(s),
        () => {},
      );
    load();
    const t = setInterval(load, STATS_REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [live, version, name]);

  // ---- results, refreshed while their panel is open ----
  useEffect(() => {
    if (panel !== 'results' || !version) return;
    let alive = true;
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const load = () =>
      api.getResults(name, statsQuery(range, new Date(), tz)).then(
        (r) => {
          if (!alive) return;
          setResults(r);
          setResultsError(null);
          setResultsAt(new Date());
          setResultsRefresh((n) => n + 1);
        },
        (e: Error) => alive && setResultsError(`Cannot load the results: ${e.message}`),
      );
    load();
    const t = setInterval(load, RESULTS_REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [panel, version, name, range]);
  const funnel = useMemo(
    () => (panel === 'results' && results ? funnelByNode(results.funnel, results.stats.journeys) : null),
    [panel, results],
  );

  useEffect(() => {
    if (doc) localStorage.setItem(POSITIONS_KEY(name), JSON.stringify(doc.positions));
  }, [doc?.positions, name]); // eslint-disable-line react-hooks/exhaustive-deps

  // A refusal because of errors says nothing once they are fixed.
  useEffect(() => {
    if (index.errors === 0) setStatus((s) => (s?.kind === 'error' && /\berrors?\b/.test(s.text) ? null : s));
  }, [index.errors]);

  // ---- warn before leaving with unsaved changes ----
  useEffect(() => {
    setUnsaved(dirty); // asked by the router on Back, Forward and links
    return () => setUnsaved(false);
  }, [dirty]);
  useEffect(() => {
    if (!dirty) return;
    const on = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', on);
    return () => window.removeEventListener('beforeunload', on);
  }, [dirty]);

  // ---- canvas graph ----
  const simPath = useMemo(() => simResult?.path ?? [], [simResult]);
  const graph = useMemo(() => (doc ? flowToGraph(doc.flow, doc.positions) : { nodes: [], edges: [] }), [doc]);
  // Each box keeps its data object while what it shows is the same, so the memoized
  // boxes skip drawing when a check answers or another box changes (a 60-node flow).
  const boxData = useRef(new Map<string, FlowNodeData>());
  const decorated = useMemo<FlowNodeType[]>(() => {
    if (!flow) return [];
    const kept = new Map<string, FlowNodeData>();
    const nodes = graph.nodes.map((gn) => {
      const problems = index.byNode.get(gn.id) ?? [];
      const step = simPath.indexOf(gn.id);
      const data = sameBoxData(boxData.current.get(gn.id), {
        node: gn.data.node,
        start: gn.data.start,
        // In the data, so boxes drawn before the table arrived get their labels with it.
        label: kindLabel(gn.data.node.type),
        severity: worstSeverity(problems),
        problems: problems.map((p) => shownMessage(p)),
        handleSeverity: Object.fromEntries(handlesWithDiagnostics(flow, index, gn.id)),
        counts: live ? (stats?.nodes[gn.id] ?? { entered: 0, waiting: 0, exited: 0 }) : undefined,
        funnel: live ? liveFunnel(stats?.messages, gn.data.node) : undefined,
        variantFigures:
          live && gn.data.node.type === 'ab'
            ? variantFigures(stats, gn.id, (gn.data.node.variants ?? []).map((v) => v.name))
            : undefined,
        simStep: step >= 0 ? step + 1 : undefined,
        simDimmed: simPath.length > 0 && step < 0,
        funnelFigure: funnel ? (funnel[gn.id] ?? { reached: 0, share: 0 }) : undefined,
        convertedAfter: funnel && results ? results.nodes[gn.id]?.convertedAfter : undefined,
      });
      kept.set(gn.id, data);
      return { id: gn.id, type: 'trellis' as const, position: gn.position, data };
    });
    boxData.current = kept;
    return nodes;
  }, [graph, flow, index, stats, live, simPath, funnel, results, schemas]);

  // The trigger's box: above the start node, where ELK put it or the user dragged it.
  const triggerNode = useMemo<TriggerNodeType | null>(() => {
    if (!doc || !flow) return null;
    const start = flow.start ? doc.positions[flow.start] : undefined;
    const position = doc.positions[TRIGGER_ID] ?? (start ? { x: start.x, y: start.y - NODE_HEIGHT - 40 } : { x: 0, y: -NODE_HEIGHT - 40 });
    return {
      id: TRIGGER_ID,
      type: 'trigger' as const,
      position,
      selectable: false,
      deletable: false,
      data: { trigger: flow.trigger, entered: live ? (stats?.journeys ?? 0) : undefined },
    };
  }, [doc, flow, live, stats]);

  // Until ELK's first answer the boxes are not drawn (their sizes are known, or measured
  // as soon as they show). A box that shows the same as before keeps its object, so a
  // selection or a check's answer makes React Flow redraw only the boxes that changed.
  useEffect(() => {
    setRfNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      const all: CanvasNode[] = triggerNode ? [triggerNode, ...decorated] : decorated;
      return all.map((n) => {
        const p = byId.get(n.id);
        const position = p?.dragging ? p.position : n.position;
        const isSelected = selected.includes(n.id);
        const hidden = !layoutReady;
        if (p && p.data === n.data && p.position.x === position.x && p.position.y === position.y && !!p.selected === isSelected && !!p.hidden === hidden) return p;
        const known = knownBox(n);
        return {
          ...n,
          position,
          measured: p?.measured ?? known?.measured,
          handles: known?.handles,
          hidden,
          dragging: p?.dragging,
          selected: isSelected,
        } as CanvasNode;
      });
    });
  }, [decorated, selected, triggerNode, layoutReady]);

  // Shows the flow once ELK laid it out: all of it when it fits at a readable size,
  // else its top (the trigger) at the smallest readable zoom.
  // `boxes`: where the boxes stand, React Flow's by default; the first view is set from
  // ELK's answer before React Flow has any box to draw, so it draws those in view once.
  const fitReadable = useCallback(
    (duration = 0, boxes?: Record<string, Box>) => {
      const el = canvasRef.current;
      const all = boxes ?? Object.fromEntries(rf.getNodes().map((n) => [n.id, { ...n.position, width: n.measured?.width ?? NODE_WIDTH, height: n.measured?.height ?? NODE_HEIGHT }]));
      const list = Object.values(all);
      if (!el || list.length === 0) return;
      const x = Math.min(...list.map((b) => b.x));
      const y = Math.min(...list.map((b) => b.y));
      const bounds = { x, y, width: Math.max(...list.map((b) => b.x + b.width)) - x, height: Math.max(...list.map((b) => b.y + b.height)) - y };
      const pad = 0.1;
      const fit = Math.min(1, Math.min(el.clientWidth / bounds.width, el.clientHeight / bounds.height) * (1 - 2 * pad));
      if (fit >= READABLE_ZOOM) {
        void rf.setViewport(getViewportForBounds(bounds, el.clientWidth, el.clientHeight, 0.2, 1, pad), { duration });
        return;
      }
      const top = all[TRIGGER_ID] ?? list[0];
      void rf.setViewport(
        { zoom: READABLE_ZOOM, x: el.clientWidth / 2 - (top.x + top.width / 2) * READABLE_ZOOM, y: 20 - top.y * READABLE_ZOOM },
        { duration },
      );
    },
    [rf],
  );
  // The first view, as ELK's first answer lands (the boxes are shown in the same turn).
  const fitted = useRef(false);
  useEffect(() => {
    if (!layoutReady || fitted.current || !doc || !elkLayout) return;
    fitted.current = true;
    const boxes: Record<string, Box> = {};
    for (const [id, s] of Object.entries(elkLayout.sizes)) {
      const p = doc.positions[id];
      if (p) boxes[id] = { ...p, ...s };
    }
    fitReadable(0, boxes);
  }, [layoutReady, doc, elkLayout, fitReadable]);
  // On screen: the first frame with the laid-out boxes in the page.
  const shown = useRef(false);
  useEffect(() => {
    if (!layoutReady || shown.current) return;
    const mark = () => {
      if (shown.current) return;
      if (!canvasRef.current?.querySelector('.react-flow__node')) return void requestAnimationFrame(mark);
      shown.current = true;
      performance.mark('trellis:shown');
    };
    requestAnimationFrame(mark);
  }, [layoutReady, rfNodes]);

  // Boxes as they stand now, to tell which of ELK's routes still fit their arrows.
  // Kept while no box moved or resized, so a selection does not redraw every arrow.
  const boxesKey = rfNodes
    .map((n) => (n.measured?.width && n.measured.height ? `${n.id}:${n.position.x},${n.position.y},${n.measured.width}x${n.measured.height}` : ''))
    .join('|');
  const boxesNow = useMemo(() => {
    const out: Record<string, Box> = {};
    for (const n of rfNodes) {
      if (n.measured?.width && n.measured.height) out[n.id] = { ...n.position, width: n.measured.width, height: n.measured.height };
    }
    return out;
  }, [boxesKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const simEdges = useMemo(() => {
    const set = new Set<string>();
    for (let i = 0; i + 1 < simPath.length; i++) set.add(`${simPath[i]}>${simPath[i + 1]}`);
    return set;
  }, [simPath]);

  const rfEdges = useMemo<RoutedEdgeType[]>(
    () => [
      ...(flow?.start && graph.nodes.some((n) => n.id === flow.start)
        ? [
            {
              id: `${TRIGGER_ID}->${TRIGGER_HANDLE}`,
              type: 'routed' as const,
              source: TRIGGER_ID,
              sourceHandle: TRIGGER_HANDLE,
              target: flow.start,
              targetHandle: 'in',
              selectable: false,
              deletable: false,
              markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: '#94a3b8' },
              data: {
                route: routeFits(elkLayout, { source: TRIGGER_ID, target: flow.start }, boxesNow)
                  ? elkLayout?.routes[`${TRIGGER_ID}->${TRIGGER_HANDLE}`]
                  : undefined,
              },
            },
          ]
        : []),
      ...graph.edges.map((e) => {
        const onPath = simEdges.has(`${e.source}>${e.target}`);
        const sev = index.byField.get(`${e.source}\u0000${e.sourceHandle}`) ? 'error' : '';
        return {
          id: e.id,
          type: 'routed' as const,
          source: e.source,
          sourceHandle: e.sourceHandle,
          target: e.target,
          targetHandle: 'in',
          selected: selectedEdges.includes(e.id),
          animated: onPath,
          className: [onPath ? 'sim-edge' : '', sev].join(' '),
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: onPath ? '#7c3aed' : '#94a3b8' },
          data: {
            handle: e.sourceHandle,
            text: e.label,
            route: routeFits(elkLayout, e, boxesNow) ? elkLayout?.routes[e.id] : undefined,
          },
        };
      }),
    ],
    [graph, selectedEdges, simEdges, index, flow?.start, elkLayout, boxesNow],
  );

  const onNodesChange = useCallback((changes: NodeChange<CanvasNode>[]) => {
    const sel = changes.filter((c) => c.type === 'select');
    if (sel.length) {
      setSelected((prev) => {
        const s = new Set(prev);
        for (const c of sel) {
          if (c.type !== 'select') continue;
          if (c.selected) s.add(c.id);
          else s.delete(c.id);
        }
        return [...s];
      });
    }
    // Removal goes through onDelete so the flow, not the canvas, drops the node.
    const rest = changes.filter((c) => c.type !== 'remove' && c.type !== 'select');
    if (rest.length) setRfNodes((nds) => applyNodeChanges(rest, nds));
    // A finished move (arrow keys, or the end of a drag) becomes one undo step.
    const moved = changes.filter((c): c is NodePositionChange => c.type === 'position' && !!c.position && !c.dragging);
    if (moved.length) {
      const key = `move:${moved.map((c) => c.id).sort().join(',')}`;
      apply((d) => {
        const positions = { ...d.positions };
        for (const c of moved) if (c.position) positions[c.id] = { x: Math.round(c.position.x), y: Math.round(c.position.y) };
        return { ...d, positions };
      }, key);
    }
  }, [apply]);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const sel = changes.filter((c) => c.type === 'select');
    if (!sel.length) return;
    setSelectedEdges((prev) => {
      const s = new Set(prev);
      for (const c of sel) {
        if (c.type !== 'select') continue;
        if (c.selected) s.add(c.id);
        else s.delete(c.id);
      }
      return [...s];
    });
  }, []);

  const onDelete = useCallback(
    ({ nodes, edges }: { nodes: { id: string }[]; edges: Edge[] }) => {
      const gone = nodes.map((n) => n.id);
      apply((d) => {
        let f = d.flow;
        for (const e of edges) if (!gone.includes(e.source)) f = disconnect(f, e.source, e.sourceHandle ?? 'next');
        f = removeNodes(f, gone);
        const positions = { ...d.positions };
        for (const id of gone) delete positions[id];
        return { flow: f, positions };
      });
      setSelected((s) => s.filter((id) => !gone.includes(id)));
      setSelectedEdges([]);
    },
    [apply],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.source || !c.target || !c.sourceHandle || c.target === TRIGGER_ID) return;
      // An arrow from the trigger picks where journeys start.
      if (c.source === TRIGGER_ID) editFlow((f) => ({ ...f, start: c.target }));
      else editFlow((f) => connect(f, c.source, c.sourceHandle!, c.target));
    },
    [editFlow],
  );

  const onNodeDragStop = useCallback(
    (_: unknown, __: unknown, nodes: CanvasNode[]) => {
      apply((d) => {
        const positions = { ...d.positions };
        for (const n of nodes) positions[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
        return { ...d, positions };
      }, `move:${nodes.map((n) => n.id).sort().join(',')}`);
    },
    [apply],
  );

  const addNodeAt = useCallback(
    (type: NodeType, at?: Position) => {
      if (!history) return;
      const f = history.present.flow;
      const id = freshId(f, type);
      let pos = at;
      if (!pos) {
        const rect = canvasRef.current?.getBoundingClientRect();
        const centre = rect
          ? rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 })
          : { x: 0, y: 0 };
        pos = { x: Math.round(centre.x - NODE_WIDTH / 2), y: Math.round(centre.y - NODE_HEIGHT / 2) };
      }
      // Never on another box: the nearest free place around where it was wanted.
      const taken = rf.getNodes().map((n) => ({ ...n.position, width: n.measured?.width ?? NODE_WIDTH, height: n.measured?.height ?? NODE_HEIGHT }));
      pos = freeSpot(taken, { width: NODE_WIDTH, height: NODE_HEIGHT }, pos);
      apply((d) => ({ flow: addNode(d.flow, newNode(type, id)), positions: { ...d.positions, [id]: pos! } }));
      setSelected([id]);
      setSelectedEdges([]);
      setPanel('edit');
    },
    [history, apply, rf],
  );

  // Auto-layout shows the result whichever run lands it (a run for grown boxes may
  // supersede the button's own).
  const fitAfterLayout = useRef(false);
  const layout = useCallback(() => {
    fitAfterLayout.current = true;
    void relayout();
  }, [relayout]);
  useEffect(() => {
    if (!fitAfterLayout.current) return;
    fitAfterLayout.current = false;
    setTimeout(() => fitReadable(200), 50);
  }, [layoutsApplied, fitReadable]);

  const doUndo = useCallback(() => setHistory((h) => (h ? undo(h) : h)), []);
  const doRedo = useCallback(() => setHistory((h) => (h ? redo(h) : h)), []);

  // Keyboard: undo/redo, select all, clear selection (delete is React Flow's own).
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'z' && !e.shiftKey) {
        e.preventDefault();
        doUndo();
      } else if (mod && (k === 'y' || (k === 'z' && e.shiftKey))) {
        e.preventDefault();
        doRedo();
      } else if (mod && k === 'a') {
        e.preventDefault();
        setSelected(history?.present.flow.nodes.map((n) => n.id) ?? []);
      } else if (e.key === 'Escape') {
        setSelected([]);
        setSelectedEdges([]);
      } else if ((e.key === 'Delete' || e.key === 'Backspace') && !mod) {
        // Our own handler, not React Flow's deleteKeyCode: its pressed-key tracking
        // ignored Delete after a Ctrl+A.
        if (selected.length === 0 && selectedEdges.length === 0) return;
        e.preventDefault();
        const edges = graph.edges
          .filter((x) => selectedEdges.includes(x.id))
          .map((x) => ({ id: x.id, source: x.source, target: x.target, sourceHandle: x.sourceHandle }));
        onDelete({ nodes: selected.map((id) => ({ id })), edges });
      }
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, [doUndo, doRedo, history, selected, selectedEdges, graph, onDelete]);

  // ---- save, deploy ----
  const save = useCallback(async (): Promise<boolean> => {
    if (!flow) return false;
    setBusy(true);
    setStatus({ kind: 'info', text: 'Saving…' });
    try {
      const outcome = await api.saveFlow(name, cleanFlow(flow));
      // Read back what the server wrote (canonical form) so the editor shows the file's truth.
      const back = await api.getFlow(name);
      setHistory((h) => (h ? replace(h, { ...h.present, flow: back.flow }) : h));
      setSaved(serialize(back.flow));
      setFileErrors([]);
      setUndeployed(back.state === 'modified');
      setOnServer(true);
      if (isNew) window.history.replaceState(null, '', `#/flows/${encodeURIComponent(name)}`);
      if (outcome.errors > 0) {
        setDiagnostics(outcome.diagnostics);
        setStatus({ kind: 'draft', text: '' });
        return false; // kept, but not deployable
      }
      setStatus({ kind: 'ok', text: 'Saved' });
      return true;
    } catch (e) {
      const err = e as api.ApiError;
      if (err.diagnostics?.length) setDiagnostics(err.diagnostics);
      setStatus({ kind: 'error', text: `Not saved: ${failure(err)}` });
      return false;
    } finally {
      setBusy(false);
    }
  }, [flow, name, isNew, history]);

  const deploy = useCallback(async () => {
    // A flow with errors is kept as a draft; the server would refuse to deploy it.
    if (index.errors > 0) {
      if (dirty) await save();
      setStatus({ kind: 'draft', text: '' });
      return;
    }
    if (dirty && !(await save())) return;
    setBusy(true);
    try {
      const v = await api.deployFlow(name);
      setVersion(v);
      setUndeployed(false);
      setStatus({ kind: 'ok', text: v ? `Deployed version ${v}` : 'Deployed' });
    } catch (e) {
      const err = e as api.ApiError;
      if (err.diagnostics?.length) setDiagnostics(err.diagnostics);
      setStatus({ kind: 'error', text: `Not deployed: ${failure(err)}` });
    } finally {
      setBusy(false);
    }
  }, [dirty, save, name, index.errors]);

  // Deploy asks first, with what changes against the running version; an unchanged
  // flow is not deployed again.
  const [deployPlan, setDeployPlan] = useState<DeployPlan | null>(null);
  const askDeploy = useCallback(async () => {
    if (!flow) return;
    // With errors nothing deploys: deploy() keeps the draft and says why.
    if (index.errors > 0) return deploy();
    // The server words the changes (GET/POST /v1/flows/{name}/diff): it needs the flow saved once.
    if (!onServer && !(await save())) return;
    try {
      const changes = await api.diffDraft(name, cleanFlow(flow));
      if (version && changes.length === 0) {
        setStatus({ kind: 'info', text: `Nothing to deploy: the flow is the same as the running version ${version}` });
        return;
      }
      const live = version ? ((await api.getStats(name).catch(() => null))?.live ?? 0) : 0;
      setDeployPlan({ changes, version, live });
    } catch (e) {
      setStatus({ kind: 'error', text: `Cannot compare with the running version: ${(e as Error).message}` });
    }
  }, [flow, version, name, index.errors, deploy, onServer, save]);

  const runSim = useCallback(async () => {
    if (!flow || !simInput) return;
    const req = buildSimRequest(simInput);
    if ('text' in req) {
      setSimError(req);
      return;
    }
    setSimRunning(true);
    setSimError(null);
    setSimSentTypes(req.events.map((e) => e.type));
    try {
      setSimResult(await api.simulate({ flow: cleanFlow(flow), ...req }));
    } catch (e) {
      setSimResult(null);
      // The server's detail says what is wrong and where ("event 1: unknown duration unit ' days'").
      const detail = e instanceof api.ApiError ? e.detail : undefined;
      const text = e instanceof api.ApiError ? simErrorText(e.message, detail, req.rows) : (e as Error).message;
      setSimError({ text, place: detail ? simErrorPlace(detail, req.rows) : {} });
    } finally {
      setSimRunning(false);
    }
  }, [flow, simInput]);

  // The sample follows the trigger (its event, condition and key) until edited.
  const triggerText = flow ? JSON.stringify(flow.trigger) : '';
  useEffect(() => {
    if (!flow || simTouched.current) return;
    setSimInput(defaultSimInput(flow));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [triggerText]);

  const eventTypes = useMemo(() => {
    const s = new Set(recentTypes);
    if (flow) {
      if (flow.trigger.event) s.add(flow.trigger.event);
      for (const e of flow.exit_on ?? []) if (e) s.add(e);
      const goal = goalParts(flow.goal).event;
      if (goal) s.add(goal);
      for (const n of flow.nodes) {
        const u = untilEventType(n);
        if (u) s.add(u);
      }
    }
    return [...s].sort();
  }, [recentTypes, flow]);

  const sampleContext = useMemo(() => {
    const user = (simInput && parseUser(simInput.user)) ?? {};
    const first = simInput?.events[0];
    const props = (first && parseUser(first.properties)) ?? {};
    const pool = simInput?.coupons.split(/[:,\n]/)[1]?.trim();
    return { user, event: { type: flow?.trigger.event, ...props }, coupon: { code: pool || 'SAMPLE-CODE' } };
  }, [simInput, flow?.trigger.event]);

  if (loadError)
    return (
      <div className="list-page">
        <div className="banner error">Cannot open flow {name}: {loadError}</div>
        <a href="#/">back to flows</a>
      </div>
    );
  if (!history || !flow) return <div className="loading">Loading {name}…</div>;

  const selectedNode = selected.length === 1 ? flow.nodes.find((n) => n.id === selected[0]) : undefined;
  const leave = (e: React.MouseEvent) => {
    if (!mayLeave()) e.preventDefault();
  };
  const shownStatus = status?.kind === 'draft' ? draftStatus(index.errors, dirty) : status;

  return (
    <div className="editor">
      <header className="topbar">
        <a href="#/" className="brand" onClick={leave}>
          Trellis
        </a>
        <span className="flow-name" data-testid="flow-name">
          {flow.flow}
          {dirty && (
            <span className="dirty" title="unsaved changes" data-testid="dirty">
              ●
            </span>
          )}
        </span>
        <span className="muted" data-testid="version">
          {version ? `deployed v${version}` : onServer ? 'not deployed' : 'new'}
          {version && undeployed ? ' · saved changes not deployed' : ''}
        </span>
        {live && stats && <LiveTotals stats={stats} />}
        <span className="spacer" />
        <button type="button" onClick={doUndo} disabled={!canUndo(history)} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button type="button" onClick={doRedo} disabled={!canRedo(history)} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button type="button" onClick={layout} title="Arrange the nodes along their arrows">
          Auto-layout
        </button>
        <button
          type="button"
          className={`problems ${index.errors ? 'error' : index.warnings ? 'warning' : 'ok'}`}
          onClick={() => setShowProblems(!showProblems)}
          data-testid="problems"
        >
          {fresh
            ? 'new flow'
            : checkState === 'failed'
            ? 'checker unreachable'
            : index.errors + index.warnings === 0
              ? checkState === 'checking'
                ? 'checking…'
                : '✓ no problems'
              : `${index.errors} error${index.errors === 1 ? '' : 's'}, ${index.warnings} warning${index.warnings === 1 ? '' : 's'}`}
        </button>
        <label className="toggle" title="Show per-node counts of the deployed flow">
          <input type="checkbox" checked={live} disabled={!version} onChange={(e) => setLive(e.target.checked)} /> Live
        </label>
        <button type="button" className="primary" onClick={() => void save()} disabled={busy || (!dirty && onServer)}>
          Save
        </button>
        <button type="button" className="primary" onClick={() => void askDeploy()} disabled={busy}>
          Deploy
        </button>
        {version ? <FlowLifecycle name={name} version={version} onRolledBack={() => window.location.reload()} /> : null}
      </header>
      {shownStatus && (
        <div className={`statusline ${shownStatus.kind}`} data-testid="status">
          {shownStatus.text}
        </div>
      )}
      {fileErrors.length > 0 && (
        <div className="statusline error" data-testid="file-errors">
          The file cannot be read as written, so the boxes show it as far as it could be read (Save writes them):
          {fileErrors.map((d, i) => (
            <div key={i}>
              line {d.line}: {d.plain ?? d.message}
            </div>
          ))}
        </div>
      )}
      <div className="editor-body">
        <aside className="palette" data-testid="palette">
          <div className="palette-title">Add a node</div>
          {schemas.map(({ type: t, help }) => (
            <button
              key={t}
              type="button"
              className={`palette-item type-${t}`}
              data-type={t}
              draggable
              onDragStart={(e) => {
                e.dataTransfer.setData(DND_TYPE, t);
                e.dataTransfer.effectAllowed = 'move';
              }}
              onClick={() => addNodeAt(t)}
              title={help ?? `Click or drag to add a ${kindLabel(t)} node`}
            >
              {kindLabel(t)}
            </button>
          ))}
          <div className="palette-help muted small">
            Drag from a node's bottom dot to another node to connect. Delete/Backspace removes the selection; Ctrl+Z
            undoes; Ctrl+A selects all; Esc clears.
          </div>
        </aside>
        <div
          className="canvas"
          ref={canvasRef}
          data-testid="canvas"
          data-flow={name}
          data-layout={layoutReady ? 'ready' : 'pending'}
          data-layouts={layoutsApplied}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'move';
          }}
          onDrop={(e) => {
            const t = e.dataTransfer.getData(DND_TYPE) as NodeType;
            if (!schemas.some((k) => k.type === t)) return;
            e.preventDefault();
            const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
            addNodeAt(t, { x: Math.round(p.x - 110), y: Math.round(p.y - 20) });
          }}
        >
          <ReactFlow<CanvasNode, RoutedEdgeType>
            nodes={rfNodes}
            // No arrows while the boxes are hidden for ELK: drawn once, along its routes.
            edges={layoutReady ? rfEdges : NO_EDGES}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
            onlyRenderVisibleElements={rfNodes.length >= DRAW_IN_VIEW_FROM}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onDelete={onDelete}
            onNodeDragStop={onNodeDragStop}
            onPaneClick={() => {
              setSelected([]);
              setSelectedEdges([]);
            }}
            deleteKeyCode={null}
            minZoom={0.2}
            maxZoom={2}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={16} />
            <Controls />
          </ReactFlow>
          {fresh && (
            <div className="empty-guide" data-testid="empty-guide">
              <b>Start your flow</b>
              <ol>
                <li>In the panel on the right, pick the event that starts a journey.</li>
                <li>Add a first step: click one in the palette on the left, or drag it here.</li>
                <li>Connect steps by dragging from a box's bottom dot to another box.</li>
              </ol>
            </div>
          )}
          {showProblems && (
            <div className="problems-list" data-testid="problems-list">
              {diagnostics.length === 0 && <div className="muted">No problems.</div>}
              {diagnostics.map((d, i) => (
                <button
                  key={i}
                  type="button"
                  className={`problem ${d.severity}`}
                  onClick={() => {
                    setSelected(d.node ? [d.node] : []);
                    setPanel('edit');
                  }}
                >
                  <b>{d.severity}</b> {d.node && !d.plain ? `${d.node}${d.field ? `.${d.field}` : ''}: ` : ''}
                  <span title={d.message}>{shownMessage(d)}</span>
                </button>
              ))}
            </div>
          )}
        </div>
        {!sideOpen && (
          <aside className="side collapsed" data-testid="side-panel" data-open="false">
            <button type="button" className="side-toggle" onClick={() => setSideOpen(true)} aria-label="Show side panel" title="Show side panel">
              ‹
            </button>
          </aside>
        )}
        <aside className={`side ${panel === 'results' ? 'wide' : ''}`} data-testid="side-panel" data-open="true" hidden={!sideOpen}>
          <div className="tabs">
            <button type="button" className="side-toggle" onClick={() => setSideOpen(false)} aria-label="Hide side panel" title="Hide side panel">
              ›
            </button>
            <button type="button" className={panel === 'edit' ? 'active' : ''} onClick={() => setPanel('edit')}>
              {selectedNode ? 'Node' : 'Flow'}
            </button>
            <button type="button" className={panel === 'simulate' ? 'active' : ''} onClick={() => setPanel('simulate')}>
              Simulate
            </button>
            <button type="button" className={panel === 'replay' ? 'active' : ''} onClick={() => setPanel('replay')}>
              Replay
            </button>
            <button type="button" className={panel === 'results' ? 'active' : ''} onClick={() => setPanel('results')}>
              Results
            </button>
          </div>
          {panel === 'results' && (
            <ResultsPanel
              name={name}
              deployed={!!version}
              results={results}
              error={resultsError}
              updatedAt={resultsAt}
              range={range}
              onRange={setRange}
              node={selectedNode?.id}
              nodeVariants={selectedNode?.type === 'ab' ? (selectedNode.variants ?? []).map((v) => v.name) : []}
              refresh={resultsRefresh}
            />
          )}
          {panel === 'edit' && selectedNode && (
            <NodePanel
              key={selectedNode.id}
              flow={flow}
              node={selectedNode}
              index={index}
              context={sampleContext}
              onUpdate={(u, key) => editFlow((f) => updateNode(f, selectedNode.id, u), key)}
              onRename={(to) => {
                const id = to.trim();
                if (!/^[A-Za-z_][\w]*$/.test(id) || flow.nodes.some((n) => n.id === id)) {
                  setStatus({ kind: 'error', text: `Cannot rename to "${to}": not a free id` });
                  return;
                }
                apply((d) => {
                  const positions = { ...d.positions, [id]: d.positions[selectedNode.id] };
                  delete positions[selectedNode.id];
                  return { flow: renameNode(d.flow, selectedNode.id, id), positions };
                });
                setSelected([id]);
              }}
              onDelete={() => onDelete({ nodes: [{ id: selectedNode.id }], edges: [] })}
              onMakeStart={() => editFlow((f) => ({ ...f, start: selectedNode.id }))}
              schema={schemas.find((k) => k.type === selectedNode.type)}
              funnel={live ? liveFunnel(stats?.messages, selectedNode) : undefined}
            />
          )}
          {panel === 'edit' && !selectedNode && (
            <>
              {selected.length > 1 && <p className="muted panel-note">{selected.length} nodes selected</p>}
              <FlowPanel flow={flow} index={index} isNew={!onServer} onChange={editFlow} />
            </>
          )}
          {panel === 'replay' && <ReplayPanel name={name} deployed={!!version} draft={() => cleanFlow(flow)} />}
          {panel === 'simulate' && simInput && (
            <SimulatePanel
              input={simInput}
              onInput={(i) => {
                simTouched.current = true;
                setSimInput(i);
              }}
              onRun={() => void runSim()}
              onClear={() => setSimResult(null)}
              running={simRunning}
              result={simResult}
              error={simError}
              emptyReason={flow ? emptyPathReason(flow, simSentTypes) : ''}
            />
          )}
        </aside>
      </div>
      {deployPlan && (
        <DeployDialog
          name={name}
          plan={deployPlan}
          onCancel={() => setDeployPlan(null)}
          onDeploy={() => {
            setDeployPlan(null);
            void deploy();
          }}
        />
      )}
      <datalist id={EVENT_TYPES_LIST}>
        {eventTypes.map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
    </div>
  );
}

// The deployed flow's totals, in the header while Live is on.
function LiveTotals({ stats }: { stats: FlowStats }) {
  const t = flowTotals(stats);
  return (
    <span className="live-totals" data-testid="live-totals">
      <span>
        <b data-total="journeys">{t.journeys}</b> journeys
      </span>
      <span>
        <b data-total="active">{t.active}</b> active
      </span>
      <span>
        <b data-total="conversions">{t.conversions}</b> conversions
      </span>
      <span>
        <b data-total="rate">{t.rate}</b> converted
      </span>
    </span>
  );
}
