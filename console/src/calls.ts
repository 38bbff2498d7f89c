// Call statuses: which are final, and how they look.

import type { CallStatus } from "./api/types";

const FINAL: readonly CallStatus[] = ["completed", "busy", "no-answer", "failed", "canceled"];

export function isFinal(status: CallStatus): boolean {
  return FINAL.includes(status);
}

export function statusTone(status: string): "ok" | "bad" | "live" | "muted" {
  if (status === "completed" || status === "placed") return "ok";
  if (status === "failed" || status === "busy" || status === "no-answer") return "bad";
  if (status === "canceled") return "muted";
  return "live";
}
