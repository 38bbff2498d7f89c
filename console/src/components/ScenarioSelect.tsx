// A scenario picker: predefined templates (by key) and custom scenarios (by id).

import type { Scenarios } from "../hooks/useScenarios";
import { customLabel } from "../hooks/useScenarios";

interface ScenarioSelectProps {
  scenarios: Scenarios | undefined;
  value: string;
  onChange: (value: string) => void;
  testId: string;
  disabled?: boolean;
}

export function ScenarioSelect({ scenarios, value, onChange, testId, disabled }: ScenarioSelectProps) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId} disabled={disabled || !scenarios}>
      <optgroup label="Predefined">
        {scenarios?.predefined.map((p) => (
          <option key={p.key} value={p.key}>
            {p.name} ({p.key})
          </option>
        ))}
      </optgroup>
      {scenarios && scenarios.custom.length > 0 && (
        <optgroup label="Custom">
          {scenarios.custom.map((c) => (
            <option key={c.scenario_id} value={c.scenario_id}>
              {customLabel(c)}
            </option>
          ))}
        </optgroup>
      )}
    </select>
  );
}
