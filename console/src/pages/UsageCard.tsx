// This month's usage: call minutes against the cap, by channel (and time transferred callers
// spent with a person), with the estimated cost.

import { api } from "../api/client";
import type { ChannelView, UsageReport } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../hooks/useLoad";

const CHANNELS: { key: "phone_outbound" | "phone_inbound" | "browser" | "transferred"; label: string }[] = [
  { key: "phone_outbound", label: "Phone, outbound" },
  { key: "phone_inbound", label: "Phone, inbound" },
  { key: "browser", label: "Browser" },
  { key: "transferred", label: "Transferred to a person" },
];

function ChannelRow({ label, view }: { label: string; view: ChannelView }) {
  return (
    <tr>
      <td>{label}</td>
      <td>{view.calls}</td>
      <td>{view.minutes.toFixed(2)}</td>
    </tr>
  );
}

export function UsageCard() {
  // The API's default range: this month so far.
  const usage = useLoad<UsageReport>(() => api.get<UsageReport>("/usage"));
  const report = usage.data;
  return (
    <Card title="This month's usage" testId="usage">
      <ErrorNotice error={usage.error} />
      {report && (
        <>
          <p data-testid="usage-month">
            {report.month.call_minutes.toFixed(2)}
            {report.month.minute_cap != null ? ` of ${report.month.minute_cap}` : ""} call minutes used
            {" · "}estimated cost ${report.total.estimated_cost_usd.toFixed(2)}
          </p>
          <table>
            <thead>
              <tr>
                <th>Channel</th>
                <th>Calls</th>
                <th>Minutes</th>
              </tr>
            </thead>
            <tbody data-testid="usage-channels">
              {CHANNELS.map((c) => (
                <ChannelRow key={c.key} label={c.label} view={report.total[c.key]} />
              ))}
            </tbody>
          </table>
          <p className="muted small">
            Transcription {report.total.transcription_minutes.toFixed(2)} min · Realtime tokens{" "}
            {report.total.tokens.input_audio + report.total.tokens.input_text} in,{" "}
            {report.total.tokens.output_audio + report.total.tokens.output_text} out
          </p>
        </>
      )}
    </Card>
  );
}
