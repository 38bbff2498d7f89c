// One call: its record, the media bridge's summary, bookings, and hang-up while live.

import { useState, type ReactNode } from "react";
import { api, seg, toApiError, type ApiError } from "../api/client";
import type { BridgeSummary, CallView } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { StatusBadge } from "../components/StatusBadge";
import { isFinal } from "../calls";
import { formatDateTime, formatMs, formatSeconds } from "../format";
import { useLoad } from "../hooks/useLoad";
import { usePolling } from "../hooks/usePolling";
import { href } from "../router";

function Bridge({ bridge }: { bridge: BridgeSummary }) {
  const rows: [string, string | number][] = [
    ["End reason", bridge.end_reason],
    ["Stream", formatMs(bridge.stream_ms)],
    ["Agent audio", formatMs(bridge.agent_audio_ms)],
    ["Responses", bridge.responses],
    ["Barge-ins", bridge.barge_ins],
    ["Session rotations", bridge.session_rotations],
    ["Input tokens (audio / text)", `${bridge.input_audio_tokens} / ${bridge.input_text_tokens}`],
    ["Output tokens (audio / text)", `${bridge.output_audio_tokens} / ${bridge.output_text_tokens}`],
  ];
  return (
    <Card title="Media bridge" testId="call-bridge">
      <dl className="facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

export function CallDetail({ callId }: { callId: string }) {
  const call = useLoad(() => api.get<CallView>(`/calls/${seg(callId)}`), [callId]);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const c = call.data;
  const live = c !== undefined && !isFinal(c.status);
  usePolling(live, call.reload, c);

  async function hangUp() {
    try {
      setMessage((await api.post<{ message: string }>(`/calls/${seg(callId)}/hangup`)).message);
      setError(null);
      await call.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  const facts: [string, ReactNode][] = c
    ? [
        ["Status", <StatusBadge status={c.status} testId="call-detail-status" />],
        ["Direction", c.direction],
        ["From", c.from_number || "—"],
        ["To", c.to_number || "—"],
        ["Scenario", c.scenario],
        ["Started", formatDateTime(c.created_at)],
        ["Updated", formatDateTime(c.updated_at)],
        ["Duration", formatSeconds(c.duration_seconds)],
        ["Recording", c.recording_sid ? `${c.recording_sid} (${formatSeconds(c.recording_duration_seconds)})` : "—"],
        ["Transcript", c.transcript_status ?? "—"],
        ["Call SID", c.call_sid ?? "—"],
        ["Answered by", c.answered_by ? c.answered_by.replace(/_/g, " ") : "—"],
        ["Voicemail left", c.voicemail_left ? "yes" : "no"],
        [
          "Transfer",
          c.transfer
            ? `to ${c.transfer.to}: ${c.transfer.status}` +
              (c.transfer.duration_seconds != null ? ` (${formatSeconds(c.transfer.duration_seconds)})` : "") +
              (c.transfer.error ? ` — ${c.transfer.error}` : "") +
              (c.transfer.reason ? ` · reason: ${c.transfer.reason}` : "")
            : "—",
        ],
      ]
    : [];

  return (
    <div className="page" data-testid="page-call-detail">
      <p>
        <a href={href("calls")}>← Calls</a>
      </p>
      <h1>
        Call <code>{callId}</code>
      </h1>
      <ErrorNotice error={call.error ?? error} />
      {message && <div className="notice notice-success">{message}</div>}
      {c && (
        <>
          <Card
            title="Call"
            actions={
              live && (
                <button type="button" className="button-danger" onClick={() => void hangUp()} data-testid="call-hangup">
                  Hang up
                </button>
              )
            }
          >
            {c.error && <div className="notice notice-error">{c.error}</div>}
            <dl className="facts">
              {facts.map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
            {c.transcript_sid && c.transcript_status === "completed" && (
              <a className="button" href={href("transcripts", c.transcript_sid)}>
                Read the transcript
              </a>
            )}
          </Card>
          {c.bridge && <Bridge bridge={c.bridge} />}
          {c.bookings && c.bookings.length > 0 && (
            <Card title="Appointments booked">
              <table>
                <thead>
                  <tr>
                    <th>What</th>
                    <th>Start</th>
                    <th>End</th>
                    <th>For</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {c.bookings.map((b) => (
                    <tr key={b.event_id}>
                      <td>{b.summary}</td>
                      <td>{formatDateTime(b.start)}</td>
                      <td>{formatDateTime(b.end)}</td>
                      <td>{b.caller}</td>
                      <td>{b.status}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )}
        </>
      )}
    </div>
  );
}
