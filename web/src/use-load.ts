// Loads data for a page and, while `refreshMs(data)` says so, loads it again: how worksheet
// states and a running bundle's page stay live without the user reloading.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from './api.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** `refreshMs` returns how long to wait before loading again, or null to stop. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[], refreshMs: (data: T) => number | null = () => null): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const refresh = useRef(refreshMs);
  refresh.current = refreshMs;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await load();
        if (cancelled) return;
        setData(value);
        setError(null);
        const wait = refresh.current(value);
        if (wait !== null) timer = setTimeout(() => void run(), wait);
      } catch (failure) {
        if (cancelled) return;
        setError(errorMessage(failure));
      }
    };
    void run();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    // The caller names what the load depends on, as with useEffect.
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, reload };
}
