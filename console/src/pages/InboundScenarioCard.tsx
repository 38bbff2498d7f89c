// Which scenario answers calls to the caller's numbers.

import { useEffect, useState } from "react";
import { api, toApiError, type ApiError } from "../api/client";
import type { InboundScenario } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { ScenarioSelect } from "../components/ScenarioSelect";
import { useLoad } from "../hooks/useLoad";
import { scenarioLabel, useScenarios } from "../hooks/useScenarios";

export function InboundScenarioCard() {
  const scenarios = useScenarios();
  const inbound = useLoad(() => api.get<InboundScenario>("/twilio/inbound-scenario"));
  const [choice, setChoice] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (inbound.data) setChoice(inbound.data.scenario);
  }, [inbound.data]);

  async function save() {
    try {
      await api.put<InboundScenario>("/twilio/inbound-scenario", { scenario: choice });
      setError(null);
      setSaved(true);
      await inbound.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  return (
    <Card title="Inbound calls" testId="inbound-scenario">
      <p className="muted">
        Calls to your numbers are answered with{" "}
        <strong data-testid="inbound-current">{inbound.data ? scenarioLabel(scenarios.data, inbound.data.scenario) : "…"}</strong>.
      </p>
      <div className="form form-inline">
        <label>
          <span className="field-label">Scenario for inbound calls</span>
          <ScenarioSelect
            scenarios={scenarios.data}
            value={choice}
            onChange={(v) => {
              setChoice(v);
              setSaved(false);
            }}
            testId="inbound-select"
            disabled={!inbound.data}
          />
        </label>
        <button type="button" onClick={() => void save()} disabled={!choice} data-testid="inbound-save">
          Save
        </button>
        {saved && <span className="muted">Saved.</span>}
      </div>
      <ErrorNotice error={inbound.error ?? scenarios.error ?? error} />
    </Card>
  );
}
