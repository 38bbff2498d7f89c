// Calls: place one now, schedule one, and the history (polled while any call is live).

import { api } from "../api/client";
import type { CallPage } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { StatusBadge } from "../components/StatusBadge";
import { isFinal } from "../calls";
import { formatDateTime, formatSeconds } from "../format";
import { useLoad } from "../hooks/useLoad";
import { usePolling } from "../hooks/usePolling";
import { scenarioLabel, useScenarios } from "../hooks/useScenarios";
import { href } from "../router";
import { PlaceCall } from "./PlaceCall";
import { ScheduleCall } from "./ScheduleCall";

export function Calls() {
  const scenarios = useScenarios();
  const history = useLoad(() => api.get<CallPage>("/calls?limit=50"));
  const calls = history.data?.calls ?? [];
  const live = calls.some((c) => !isFinal(c.status));
  usePolling(live, history.reload, history.data);

  return (
    <div className="page" data-testid="page-calls">
      <h1>Calls</h1>
      <ErrorNotice error={scenarios.error} />
      <PlaceCall scenarios={scenarios.data} onPlaced={() => void history.reload()} />
      <Card
        title="History"
        testId="call-history"
        actions={
          <>
            {live && <span className="muted small">Live — updating</span>}
            <button type="button" className="button-secondary" onClick={() => void history.reload()} data-testid="calls-refresh">
              Refresh
            </button>
          </>
        }
      >
        <ErrorNotice error={history.error} />
        {history.data && calls.length === 0 && <p className="muted">No calls yet.</p>}
        {calls.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Started</th>
                <th>Direction</th>
                <th>From</th>
                <th>To</th>
                <th>Scenario</th>
                <th>Status</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((c) => (
                <tr key={c.call_id} data-testid="call-row" data-call-id={c.call_id}>
                  <td>
                    <a href={href("calls", c.call_id)}>{formatDateTime(c.created_at)}</a>
                  </td>
                  <td data-testid="call-direction">{c.direction}</td>
                  <td>{c.from_number || "—"}</td>
                  <td>{c.to_number || "—"}</td>
                  <td>{scenarioLabel(scenarios.data, c.scenario)}</td>
                  <td>
                    <StatusBadge status={c.status} testId="call-status" />
                  </td>
                  <td>{formatSeconds(c.duration_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <ScheduleCall scenarios={scenarios.data} />
    </div>
  );
}
