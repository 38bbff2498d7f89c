// Schedule a call for later, and the list of scheduled calls (cancel while pending).

import { useState, type FormEvent } from "react";
import { api, seg, toApiError, type ApiError } from "../api/client";
import type { ScheduleView } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { ScenarioSelect } from "../components/ScenarioSelect";
import { StatusBadge } from "../components/StatusBadge";
import { formatDateTime } from "../format";
import { useLoad } from "../hooks/useLoad";
import { scenarioLabel, type Scenarios } from "../hooks/useScenarios";
import { href } from "../router";

const FIELDS = ["phone_number", "scenario", "scheduled_time"] as const;

export function ScheduleCall({ scenarios }: { scenarios: Scenarios | undefined }) {
  const scheduled = useLoad(() => api.get<ScheduleView[]>("/scheduled-calls"));
  const [to, setTo] = useState("");
  const [scenario, setScenario] = useState("default");
  const [when, setWhen] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    // datetime-local is the browser's local time; the API wants RFC 3339 with an offset.
    const scheduledTime = when ? new Date(when).toISOString() : "";
    try {
      await api.post<ScheduleView>("/schedule-call", { phone_number: to.trim(), scenario, scheduled_time: scheduledTime });
      setError(null);
      setWhen("");
      await scheduled.reload();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  async function cancel(id: string) {
    try {
      await api.del<ScheduleView>(`/scheduled-calls/${seg(id)}`);
      setError(null);
      await scheduled.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  return (
    <Card title="Scheduled calls" testId="scheduled-calls">
      <form className="form form-inline" onSubmit={submit} noValidate>
        <Field label="Phone number" name="phone_number" error={error}>
          <input type="tel" value={to} onChange={(e) => setTo(e.target.value)} placeholder="+14155550123" data-testid="schedule-to" />
        </Field>
        <Field label="Scenario" name="scenario" error={error}>
          <ScenarioSelect scenarios={scenarios} value={scenario} onChange={setScenario} testId="schedule-scenario" />
        </Field>
        <Field label="When (your local time)" name="scheduled_time" error={error}>
          <input type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} data-testid="schedule-time" />
        </Field>
        <button type="submit" disabled={busy} data-testid="schedule-submit">
          Schedule
        </button>
      </form>
      <ErrorNotice error={scheduled.error ?? error} shownFields={FIELDS} testId="schedule-error" />
      {scheduled.data && scheduled.data.length === 0 && <p className="muted">Nothing scheduled.</p>}
      {scheduled.data && scheduled.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>To</th>
              <th>Scenario</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {scheduled.data.map((s) => (
              <tr key={s.schedule_id} data-testid="scheduled-row" data-schedule-id={s.schedule_id}>
                <td>{formatDateTime(s.scheduled_time)}</td>
                <td>{s.phone_number}</td>
                <td>{scenarioLabel(scenarios, s.scenario)}</td>
                <td>
                  <StatusBadge status={s.status} />
                  {s.error && <div className="small muted">{s.error}</div>}
                  {s.call_id && (
                    <div className="small">
                      <a href={href("calls", s.call_id)}>the call</a>
                    </div>
                  )}
                </td>
                <td className="cell-actions">
                  {s.status === "pending" && (
                    <button type="button" className="button-secondary" onClick={() => void cancel(s.schedule_id)} data-testid="scheduled-cancel">
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
