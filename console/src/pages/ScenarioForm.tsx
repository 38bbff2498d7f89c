// Create or edit a custom scenario. The API validates; its field messages show per field.

import { useState, type FormEvent } from "react";
import { api, toApiError, type ApiError } from "../api/client";
import type { CustomScenarioCreated, CustomScenarioInput, CustomScenarioView } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";

/** The `voice_type` values the API accepts (CustomScenarioInput in openapi.json). */
const REALTIME_VOICES = ["marin", "cedar", "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"];
const VOICE_STYLES = [
  "professional_neutral",
  "warm_engaging",
  "gentle_supportive",
  "clear_optimistic",
  "energetic_upbeat",
  "deep_authoritative",
  "concerned_female",
  "elderly_female",
  "aggressive_male",
];
const FIELDS = ["persona", "prompt", "voice_type", "temperature", "transfer_number", "voicemail_message"] as const;

interface ScenarioFormProps {
  /** The scenario being edited; a new one when absent. */
  editing?: CustomScenarioView;
  onSaved: (message: string, scenario: CustomScenarioView) => void;
  onCancel?: () => void;
}

export function ScenarioForm({ editing, onSaved, onCancel }: ScenarioFormProps) {
  const [persona, setPersona] = useState(editing?.persona ?? "");
  const [prompt, setPrompt] = useState(editing?.prompt ?? "");
  const [voiceType, setVoiceType] = useState(editing?.voice_type ?? "marin");
  const [temperature, setTemperature] = useState(String(editing?.temperature ?? 0.7));
  const [transferNumber, setTransferNumber] = useState(editing?.transfer_number ?? "");
  const [voicemail, setVoicemail] = useState(editing?.voicemail_message ?? "");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    const body: CustomScenarioInput = {
      persona,
      prompt,
      voice_type: voiceType,
      temperature: Number(temperature),
      transfer_number: transferNumber.trim() || null,
      voicemail_message: voicemail.trim() || null,
    };
    try {
      if (editing) {
        const res = await api.put<{ message: string; scenario: CustomScenarioView }>(
          `/custom-scenarios/${encodeURIComponent(editing.scenario_id)}`,
          body,
        );
        onSaved(res.message, res.scenario);
      } else {
        const res = await api.post<CustomScenarioCreated>("/realtime/custom-scenario", body);
        setPersona("");
        setPrompt("");
        setTransferNumber("");
        setVoicemail("");
        onSaved(res.message, res.scenario);
      }
      setError(null);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} noValidate data-testid="scenario-form">
      <Field label="Persona — who the agent is" name="persona" error={error} hint="10 to 5000 characters.">
        <textarea rows={3} value={persona} onChange={(e) => setPersona(e.target.value)} data-testid="scenario-persona" />
      </Field>
      <Field label="Goal — what the agent should achieve" name="prompt" error={error} hint="10 to 5000 characters.">
        <textarea rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="scenario-prompt" />
      </Field>
      <div className="form-row">
        <Field label="Voice" name="voice_type" error={error}>
          <select value={voiceType} onChange={(e) => setVoiceType(e.target.value)} data-testid="scenario-voice">
            <optgroup label="Realtime voices">
              {REALTIME_VOICES.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </optgroup>
            <optgroup label="Voice styles">
              {VOICE_STYLES.map((v) => (
                <option key={v} value={v}>
                  {v.replace(/_/g, " ")}
                </option>
              ))}
            </optgroup>
          </select>
        </Field>
        <Field label="Temperature" name="temperature" error={error} hint="0.0 to 1.0">
          <input
            type="number"
            min={0}
            max={1}
            step={0.1}
            value={temperature}
            onChange={(e) => setTemperature(e.target.value)}
            data-testid="scenario-temperature"
          />
        </Field>
      </div>
      <Field
        label="Transfer number — a colleague the agent may hand phone calls to"
        name="transfer_number"
        error={error}
        hint="Optional. E.164, e.g. +14155550199; the agent gets a transfer_call tool."
      >
        <input
          type="tel"
          value={transferNumber}
          onChange={(e) => setTransferNumber(e.target.value)}
          data-testid="scenario-transfer-number"
        />
      </Field>
      <Field
        label="Voicemail message — said to an answering machine on outbound calls"
        name="voicemail_message"
        error={error}
        hint="Optional, 10 to 1000 characters; without one the agent composes a short message."
      >
        <textarea rows={2} value={voicemail} onChange={(e) => setVoicemail(e.target.value)} data-testid="scenario-voicemail" />
      </Field>
      <ErrorNotice error={error} shownFields={FIELDS} testId="scenario-error" />
      <div className="form-actions">
        <button type="submit" disabled={busy} data-testid="scenario-save">
          {editing ? "Save changes" : "Create scenario"}
        </button>
        {onCancel && (
          <button type="button" className="button-secondary" onClick={onCancel} data-testid="scenario-cancel">
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
