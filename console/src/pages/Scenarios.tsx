// Predefined templates and the caller's custom scenarios (create, edit, delete).

import { useState } from "react";
import { api, toApiError, type ApiError } from "../api/client";
import type { CustomScenarioView, InstructionsPreview } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime } from "../format";
import { useScenarios } from "../hooks/useScenarios";
import { ScenarioForm } from "./ScenarioForm";

function Instructions({ instructions }: { instructions: InstructionsPreview }) {
  return (
    <details className="instructions">
      <summary>Instructions the agent receives</summary>
      <h4>Outbound calls</h4>
      <pre>{instructions.outbound}</pre>
      <h4>Inbound calls</h4>
      <pre>{instructions.inbound}</pre>
    </details>
  );
}

export function Scenarios() {
  const scenarios = useScenarios();
  const [editing, setEditing] = useState<CustomScenarioView | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function remove(scenario: CustomScenarioView) {
    if (!window.confirm("Delete this custom scenario?")) return;
    try {
      const res = await api.del<{ message: string }>(`/custom-scenarios/${encodeURIComponent(scenario.scenario_id)}`);
      setSaved(res.message);
      setError(null);
      if (editing?.scenario_id === scenario.scenario_id) setEditing(null);
      await scenarios.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  async function onSaved(message: string, scenario: CustomScenarioView) {
    setSaved(`${message} (${scenario.scenario_id})`);
    setEditing(null);
    await scenarios.reload();
  }

  const custom = scenarios.data?.custom ?? [];
  return (
    <div className="page" data-testid="page-scenarios">
      <h1>Scenarios</h1>
      <ErrorNotice error={scenarios.error ?? error} />
      {saved && (
        <div className="notice notice-success" data-testid="scenario-saved">
          {saved}
        </div>
      )}
      <Card title={editing ? "Edit custom scenario" : "New custom scenario"}>
        <ScenarioForm
          key={editing?.scenario_id ?? "new"}
          editing={editing ?? undefined}
          onSaved={(message, scenario) => void onSaved(message, scenario)}
          onCancel={editing ? () => setEditing(null) : undefined}
        />
      </Card>
      <Card title="Custom scenarios" testId="custom-scenarios">
        {scenarios.data && custom.length === 0 && <p className="muted">No custom scenarios yet.</p>}
        <ul className="scenario-list">
          {custom.map((c) => (
            <li key={c.scenario_id} className="scenario" data-testid="custom-scenario-row" data-scenario-id={c.scenario_id}>
              <div className="scenario-head">
                <div>
                  <strong>{c.persona}</strong>
                  <div className="muted small">
                    {c.scenario_id} · voice {c.voice} · temperature {c.temperature}
                    {c.transfer_number && <span data-testid="custom-scenario-transfer"> · transfers to {c.transfer_number}</span>}
                    {" "}· updated {formatDateTime(c.updated_at)}
                  </div>
                </div>
                <div className="row-actions">
                  <button type="button" className="button-secondary" onClick={() => {
                      setEditing(c);
                      setSaved(null);
                    }} data-testid="custom-scenario-edit">
                    Edit
                  </button>
                  <button type="button" className="button-danger" onClick={() => void remove(c)} data-testid="custom-scenario-delete">
                    Delete
                  </button>
                </div>
              </div>
              <p>{c.prompt}</p>
              <Instructions instructions={c.instructions} />
            </li>
          ))}
        </ul>
      </Card>
      <Card title="Predefined scenarios" testId="predefined-scenarios">
        <ul className="scenario-list">
          {scenarios.data?.predefined.map((p) => (
            <li key={p.key} className="scenario" data-testid="predefined-scenario-row" data-scenario-key={p.key}>
              <div className="scenario-head">
                <div>
                  <strong>{p.name}</strong>
                  <div className="muted small">
                    {p.key} · voice {p.voice_config.voice} · temperature {p.voice_config.temperature}
                  </div>
                </div>
              </div>
              <p>{p.persona}</p>
              <p className="muted">{p.prompt}</p>
              <Instructions instructions={p.instructions} />
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}
