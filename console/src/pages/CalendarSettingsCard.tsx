// The working hours and meeting lengths every availability computation uses.

import { useEffect, useState, type FormEvent } from "react";
import { api, toApiError, type ApiError } from "../api/client";
import type { CalendarSettings } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field, FieldErrors } from "../components/Field";
import { useLoad } from "../hooks/useLoad";

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const FIELDS = [
  "time_zone",
  "working_days",
  "working_hours.start",
  "working_hours.end",
  "slot_minutes",
  "buffer_minutes",
  "calendar_id",
] as const;

export function CalendarSettingsCard() {
  const settings = useLoad(() => api.get<CalendarSettings>("/google-calendar/settings"));
  const [form, setForm] = useState<CalendarSettings | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (settings.data) setForm(settings.data);
  }, [settings.data]);

  function update(patch: Partial<CalendarSettings>) {
    setForm((f) => (f ? { ...f, ...patch } : f));
    setSaved(false);
  }

  function toggleDay(day: string, on: boolean) {
    if (!form) return;
    const days = on ? [...form.working_days, day] : form.working_days.filter((d) => d !== day);
    update({ working_days: DAYS.filter((d) => days.includes(d)) });
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!form) return;
    try {
      setForm(await api.put<CalendarSettings>("/google-calendar/settings", form));
      setError(null);
      setSaved(true);
    } catch (err) {
      setError(toApiError(err));
    }
  }

  return (
    <Card title="Availability settings" testId="calendar-settings">
      <ErrorNotice error={settings.error} />
      {form && (
        <form className="form" onSubmit={submit} noValidate>
          <div className="form-row">
            <Field label="Time zone" name="time_zone" error={error}>
              <input value={form.time_zone} onChange={(e) => update({ time_zone: e.target.value })} data-testid="calendar-time-zone" />
            </Field>
            <Field label="Calendar" name="calendar_id" error={error}>
              <input value={form.calendar_id} onChange={(e) => update({ calendar_id: e.target.value })} data-testid="calendar-id" />
            </Field>
          </div>
          <fieldset className="days">
            <legend className="field-label">Working days</legend>
            {DAYS.map((d) => (
              <label key={d} className="checkbox">
                <input type="checkbox" checked={form.working_days.includes(d)} onChange={(e) => toggleDay(d, e.target.checked)} />
                {d.slice(0, 3)}
              </label>
            ))}
            <FieldErrors name="working_days" error={error} />
          </fieldset>
          <div className="form-row">
            <Field label="Working hours from" name="working_hours.start" error={error}>
              <input
                type="time"
                value={form.working_hours.start}
                onChange={(e) => update({ working_hours: { ...form.working_hours, start: e.target.value } })}
              />
            </Field>
            <Field label="to" name="working_hours.end" error={error}>
              <input
                type="time"
                value={form.working_hours.end}
                onChange={(e) => update({ working_hours: { ...form.working_hours, end: e.target.value } })}
              />
            </Field>
            <Field label="Meeting length (minutes)" name="slot_minutes" error={error}>
              <input type="number" value={form.slot_minutes} onChange={(e) => update({ slot_minutes: Number(e.target.value) })} />
            </Field>
            <Field label="Buffer (minutes)" name="buffer_minutes" error={error}>
              <input type="number" value={form.buffer_minutes} onChange={(e) => update({ buffer_minutes: Number(e.target.value) })} />
            </Field>
          </div>
          <ErrorNotice error={error} shownFields={FIELDS} testId="calendar-settings-error" />
          <div className="form-actions">
            <button type="submit" data-testid="calendar-settings-save">
              Save settings
            </button>
            {saved && <span className="muted">Saved.</span>}
          </div>
        </form>
      )}
    </Card>
  );
}
