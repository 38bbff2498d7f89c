// Phone numbers: the account's limits, search and buy, owned numbers, inbound scenario.

import { useState, type FormEvent } from "react";
import { api, seg, toApiError, type ApiError } from "../api/client";
import type { AccountView, AvailableNumberView, Capabilities, NumberView, SearchRequest } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { formatDateTime } from "../format";
import { useLoad } from "../hooks/useLoad";
import { InboundScenarioCard } from "./InboundScenarioCard";

/** "voice, SMS": what a number can do. */
function capabilitiesOf(c: Capabilities): string {
  return [c.voice && "voice", c.sms && "SMS"].filter(Boolean).join(", ");
}

function SearchNumbers({ countries, onBought }: { countries: string[]; onBought: () => Promise<void> }) {
  const [areaCode, setAreaCode] = useState("");
  const [contains, setContains] = useState("");
  const [country, setCountry] = useState(countries[0] ?? "US");
  const [results, setResults] = useState<AvailableNumberView[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function search(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    const body: SearchRequest = { country, limit: 10 };
    if (areaCode) body.area_code = areaCode;
    if (contains) body.contains = contains;
    try {
      setResults((await api.post<{ availableNumbers: AvailableNumberView[] }>("/twilio/search-numbers", body)).availableNumbers);
      setError(null);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  async function buy(phoneNumber: string) {
    setBusy(true);
    try {
      const res = await api.post<{ message: string; phoneNumber: string }>("/twilio/provision-number", {
        phone_number: phoneNumber,
      });
      setMessage(`${res.message} (${res.phoneNumber})`);
      setResults((r) => r?.filter((n) => n.phoneNumber !== phoneNumber) ?? null);
      setError(null);
      await onBought();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Find a number">
      <form className="form form-inline" onSubmit={search} noValidate>
        <Field label="Country" name="country" error={error}>
          <select value={country} onChange={(e) => setCountry(e.target.value)} data-testid="number-country">
            {countries.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </Field>
        <Field label="Area code" name="area_code" error={error}>
          <input inputMode="numeric" value={areaCode} onChange={(e) => setAreaCode(e.target.value)} placeholder="415" data-testid="number-area-code" />
        </Field>
        <Field label="Contains" name="contains" error={error}>
          <input value={contains} onChange={(e) => setContains(e.target.value)} placeholder="555" data-testid="number-contains" />
        </Field>
        <button type="submit" disabled={busy} data-testid="number-search">
          Search
        </button>
      </form>
      <ErrorNotice error={error} shownFields={["country", "area_code", "contains"]} testId="number-error" />
      {message && (
        <div className="notice notice-success" data-testid="number-bought">
          {message}
        </div>
      )}
      {results && results.length === 0 && <p className="muted">No numbers match.</p>}
      {results && results.length > 0 && (
        <table data-testid="number-results">
          <thead>
            <tr>
              <th>Number</th>
              <th>Locality</th>
              <th>Capabilities</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {results.map((n) => (
              <tr key={n.phoneNumber}>
                <td>{n.friendlyName ?? n.phoneNumber}</td>
                <td>{[n.locality, n.region].filter(Boolean).join(", ") || "—"}</td>
                <td>{capabilitiesOf(n.capabilities)}</td>
                <td className="cell-actions">
                  <button type="button" disabled={busy} onClick={() => void buy(n.phoneNumber)} data-testid="number-buy">
                    Buy
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export function Numbers() {
  const account = useLoad(() => api.get<AccountView>("/twilio/account"));
  const numbers = useLoad(() => api.get<NumberView[]>("/twilio/user-numbers"));
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function reloadAll() {
    await Promise.all([account.reload(), numbers.reload()]);
  }

  async function release(phoneNumber: string) {
    if (!window.confirm(`Release ${phoneNumber}? It goes back to the phone company.`)) return;
    try {
      setMessage((await api.del<{ message: string }>(`/twilio/release-number/${seg(phoneNumber)}`)).message);
      setError(null);
      await reloadAll();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  const acct = account.data;
  return (
    <div className="page" data-testid="page-numbers">
      <h1>Phone numbers</h1>
      <ErrorNotice error={account.error ?? numbers.error ?? error} />
      {acct && !acct.telephonyConfigured && (
        <div className="notice notice-warning" data-testid="telephony-not-configured">
          Telephony is not configured on this deployment: numbers cannot be searched or bought, and calls cannot be placed.
        </div>
      )}
      {acct && (
        <p className="muted" data-testid="number-limits">
          {acct.numbersOwned} of {acct.maxNumbers} numbers · up to {acct.dailyOutboundCallCap} outbound calls a day · destinations:{" "}
          {acct.allowedDestinationCountries.join(", ")}
        </p>
      )}
      {message && <div className="notice notice-success">{message}</div>}
      <Card title="Your numbers" testId="user-numbers">
        {numbers.data && numbers.data.length === 0 && <p className="muted">You have no numbers yet.</p>}
        {numbers.data && numbers.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Number</th>
                <th>Status</th>
                <th>Capabilities</th>
                <th>Since</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {numbers.data.map((n) => (
                <tr key={n.phoneNumber} data-testid="user-number-row">
                  <td>{n.friendlyName || n.phoneNumber}</td>
                  <td>
                    <span className={`badge badge-${n.status === "active" ? "ok" : "live"}`}>{n.status}</span>
                  </td>
                  <td>{capabilitiesOf(n.capabilities)}</td>
                  <td>{formatDateTime(n.dateCreated)}</td>
                  <td className="cell-actions">
                    <button type="button" className="button-danger" onClick={() => void release(n.phoneNumber)} data-testid="number-release">
                      Release
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {acct && <SearchNumbers countries={acct.allowedDestinationCountries} onBought={reloadAll} />}
      <InboundScenarioCard />
    </div>
  );
}
