import { useEffect, useState } from 'react';
import { mayLeave } from './model/drafts';
import { FlowList } from './components/FlowList';
import { Editor } from './components/Editor';

// Hash routes, so the server needs no fallback for client paths:
// #/ the flow list, #/flows/NAME an existing flow, #/new/NAME a flow not yet saved.
interface Route {
  page: 'list' | 'flow' | 'new';
  name?: string;
}

function parseRoute(hash: string): Route {
  const m = /^#\/(flows|new)\/(.+)$/.exec(hash);
  if (!m) return { page: 'list' };
  return { page: m[1] === 'flows' ? 'flow' : 'new', name: decodeURIComponent(m[2]) };
}

export function App() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    // Every way of leaving a flow (Back, Forward, a link) changes the hash: with
    // unsaved changes ask first, and on "stay" put back the address the page had,
    // `oldURL`: a new flow, once saved, has replaced its #/new/ address with
    // #/flows/ without a hash change, and putting back #/new/ would open an empty
    // flow of that name on the next reload.
    const on = (e: HashChangeEvent) => {
      if (!mayLeave()) {
        window.history.pushState(null, '', e.oldURL);
        return;
      }
      setRoute(parseRoute(location.hash));
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  if (route.page === 'list') return <FlowList />;
  return <Editor key={route.name} name={route.name!} isNew={route.page === 'new'} />;
}
