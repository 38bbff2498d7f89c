// A labelled form control with the API's validation messages for its field beneath it.

import type { ReactNode } from "react";
import type { ApiError } from "../api/client";

/** The API's messages for one field, as "field: message". */
export function FieldErrors({ name, error }: { name: string; error: ApiError | null }) {
  const messages = error?.fieldErrors.filter((e) => e.field === name) ?? [];
  return messages.map((e, i) => (
    <p key={i} className="field-error" data-testid={`field-error-${name}`} role="alert">
      {e.field}: {e.message}
    </p>
  ));
}

interface FieldProps {
  label: string;
  /** The field's name in the API's problem details (`persona`, `email`, ...). */
  name: string;
  error: ApiError | null;
  hint?: string;
  children: ReactNode;
}

export function Field({ label, name, error, hint, children }: FieldProps) {
  return (
    <div className="field">
      <label>
        <span className="field-label">{label}</span>
        {children}
      </label>
      {hint && <p className="field-hint">{hint}</p>}
      <FieldErrors name={name} error={error} />
    </div>
  );
}
