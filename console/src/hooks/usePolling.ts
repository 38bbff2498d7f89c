// While `active`, reload every `intervalMs` (each reload waits for the previous answer).

import { useEffect } from "react";

export function usePolling(active: boolean, reload: () => Promise<void>, version: unknown, intervalMs = 2000) {
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => void reload(), intervalMs);
    return () => clearTimeout(timer);
    // `version` changes with every answer, which schedules the next reload.
  }, [active, reload, version, intervalMs]);
}
