// Place a call now: predefined scenarios through /make-call, custom ones through /make-custom-call.

import { useState, type FormEvent } from "react";
import { api, seg, toApiError, type ApiError } from "../api/client";
import type { CallPlaced } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { ScenarioSelect } from "../components/ScenarioSelect";
import { isPredefined, type Scenarios } from "../hooks/useScenarios";
import { href } from "../router";

export function PlaceCall({ scenarios, onPlaced }: { scenarios: Scenarios | undefined; onPlaced: () => void }) {
  const [to, setTo] = useState("");
  const [scenario, setScenario] = useState("default");
  const [placed, setPlaced] = useState<CallPlaced | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setPlaced(null);
    const path = isPredefined(scenarios, scenario)
      ? `/make-call/${seg(to.trim())}/${seg(scenario)}`
      : `/make-custom-call/${seg(to.trim())}/${seg(scenario)}`;
    try {
      setPlaced(await api.get<CallPlaced>(path));
      setError(null);
      onPlaced();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Call now">
      <form className="form form-inline" onSubmit={submit} noValidate>
        <Field label="Phone number" name="phone_number" error={error}>
          <input type="tel" value={to} onChange={(e) => setTo(e.target.value)} placeholder="+14155550123" data-testid="call-to" />
        </Field>
        <label>
          <span className="field-label">Scenario</span>
          <ScenarioSelect scenarios={scenarios} value={scenario} onChange={setScenario} testId="call-scenario" />
        </label>
        <button type="submit" disabled={busy || !to.trim()} data-testid="call-place">
          Call
        </button>
      </form>
      <ErrorNotice error={error} shownFields={["phone_number"]} testId="call-error" />
      {placed && (
        <div className="notice notice-success" data-testid="call-placed">
          {placed.message} — from {placed.from_number}.{" "}
          <a href={href("calls", placed.call_id)} data-testid="call-placed-id" data-call-id={placed.call_id}>
            {placed.call_id}
          </a>
        </div>
      )}
    </Card>
  );
}
