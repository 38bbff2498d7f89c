import { statusTone } from "../calls";

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge badge-${statusTone(status)}`} data-testid={testId}>
      {status}
    </span>
  );
}
