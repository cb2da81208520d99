// The editor's API client and tokens: a server with tokens wants one on every call,
// reads included (docs/security.md); the editor asks once on a 401 and keeps it for the tab.
import { describe, expect, it, vi } from 'vitest';

describe('api client tokens', () => {
  it('asks for a token on a 401 to a read, retries with it, and keeps it', async () => {
    const store = new Map<string, string>();
    vi.stubGlobal('sessionStorage', {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
      removeItem: (k: string) => store.delete(k),
    });
    const seen: (string | undefined)[] = [];
    vi.stubGlobal('fetch', async (_path: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      seen.push(auth);
      if (auth !== 'Bearer right-token') {
        return new Response(JSON.stringify({ error: 'unauthorized', detail: 'needs a token' }), { status: 401 });
      }
      return new Response(JSON.stringify({ flows: [] }), { status: 200 });
    });
    const prompt = vi.fn(() => ' right-token ');
    vi.stubGlobal('window', { prompt });
    const api = await import('../src/api');

    expect(await api.listFlows()).toEqual([]);
    expect(seen).toEqual([undefined, 'Bearer right-token']);
    expect(store.get('trellis.token')).toBe('right-token');
    expect(prompt).toHaveBeenCalledTimes(1);

    await api.listFlows(); // the kept token goes along without asking again
    expect(seen[2]).toBe('Bearer right-token');
    expect(prompt).toHaveBeenCalledTimes(1);
    vi.unstubAllGlobals();
  });
});
