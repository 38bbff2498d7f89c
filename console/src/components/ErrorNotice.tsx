// An API error as a message: the problem's title and detail, plus any field errors that no
// form field shows (those of `shownFields` appear beside their fields instead).

import type { ApiError } from "../api/client";

interface ErrorNoticeProps {
  error: ApiError | null;
  shownFields?: readonly string[];
  testId?: string;
}

export function ErrorNotice({ error, shownFields = [], testId = "error" }: ErrorNoticeProps) {
  if (!error) return null;
  const others = error.fieldErrors.filter((e) => !shownFields.includes(e.field));
  return (
    <div className="notice notice-error" role="alert" data-testid={testId}>
      <strong>{error.problem.title}</strong>
      {error.problem.detail && error.problem.detail !== error.problem.title && <span> — {error.problem.detail}</span>}
      {others.length > 0 && (
        <ul>
          {others.map((e, i) => (
            <li key={i}>
              {e.field}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
