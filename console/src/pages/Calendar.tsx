// Google Calendar: connection (connect through Google's consent page, disconnect) and settings.

import { useState } from "react";
import { api, toApiError, type ApiError } from "../api/client";
import type { AuthorizationUrl, ConnectionView } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { calendarReturn } from "../calendarReturn";
import { formatDateTime } from "../format";
import { useLoad } from "../hooks/useLoad";
import { CalendarSettingsCard } from "./CalendarSettingsCard";

export function Calendar() {
  const connection = useLoad(() => api.get<ConnectionView>("/google-calendar/connection"));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // Back from Google's consent page: say how it went, once.
  const [returned] = useState(calendarReturn);

  async function connect() {
    setBusy(true);
    try {
      const { authorization_url } = await api.get<AuthorizationUrl>("/google-calendar/auth");
      window.location.assign(authorization_url);
    } catch (err) {
      setError(toApiError(err));
      setBusy(false);
    }
  }

  async function disconnect() {
    setBusy(true);
    try {
      await api.del<void>("/google-calendar/connection");
      setError(null);
      await connection.reload();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const c = connection.data;
  // 503: this deployment has no Google OAuth client; connecting is impossible, not broken.
  const notConfigured = error?.status === 503;
  return (
    <div className="page" data-testid="page-calendar">
      <h1>Calendar</h1>
      {returned && (
        <div className={`notice ${returned.connected ? "notice-success" : "notice-warning"}`} data-testid="calendar-return">
          {returned.message}
        </div>
      )}
      <Card title="Google Calendar" testId="calendar-connection">
        {notConfigured ? (
          <div className="notice notice-warning" data-testid="calendar-not-configured">
            {error.problem.detail}
          </div>
        ) : (
          <ErrorNotice error={connection.error ?? error} testId="calendar-error" />
        )}
        {c && (
          <>
            <p data-testid="calendar-status">
              {c.connected
                ? `Connected${c.connected_at ? ` since ${formatDateTime(c.connected_at)}` : ""}.`
                : c.status === "revoked"
                  ? "Google no longer accepts the grant: connect again."
                  : "Not connected. Connect a calendar so agents can check availability and book appointments."}
            </p>
            {c.scopes.length > 0 && <p className="muted small">Scopes: {c.scopes.join(", ")}</p>}
            <div className="form-actions">
              {c.connected ? (
                <button type="button" className="button-danger" disabled={busy} onClick={() => void disconnect()} data-testid="calendar-disconnect">
                  Disconnect
                </button>
              ) : (
                <button type="button" disabled={busy || notConfigured} onClick={() => void connect()} data-testid="calendar-connect">
                  Connect Google Calendar
                </button>
              )}
            </div>
          </>
        )}
      </Card>
      <CalendarSettingsCard />
    </div>
  );
}
