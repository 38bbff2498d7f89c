// Every scenario the caller can use: the predefined templates and their custom scenarios.

import { api } from "../api/client";
import type { CustomScenarioView, PredefinedView } from "../api/types";
import { useLoad } from "./useLoad";

export interface Scenarios {
  predefined: PredefinedView[];
  custom: CustomScenarioView[];
}

export function useScenarios() {
  return useLoad<Scenarios>(async () => {
    const [predefined, custom] = await Promise.all([
      api.get<PredefinedView[]>("/scenarios"),
      api.get<CustomScenarioView[]>("/custom-scenarios"),
    ]);
    return { predefined, custom };
  });
}

export function isPredefined(scenarios: Scenarios | undefined, value: string): boolean {
  return scenarios?.predefined.some((p) => p.key === value) ?? false;
}

/** A human name for a scenario key or custom scenario id. */
export function scenarioLabel(scenarios: Scenarios | undefined, value: string): string {
  const predefined = scenarios?.predefined.find((p) => p.key === value);
  if (predefined) return predefined.name;
  const custom = scenarios?.custom.find((c) => c.scenario_id === value);
  return custom ? customLabel(custom) : value;
}

export function customLabel(custom: CustomScenarioView): string {
  const persona = custom.persona.length > 48 ? `${custom.persona.slice(0, 47)}…` : custom.persona;
  return `Custom: ${persona}`;
}
