// Onboarding progress and the next thing to do.

import { useState } from "react";
import { api, toApiError, type ApiError } from "../api/client";
import type { NextAction, StatusView, StepView } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../hooks/useLoad";
import { href } from "../router";
import { UsageCard } from "./UsageCard";

interface Onboarding {
  status: StatusView;
  next: NextAction;
}

const STEPS: { key: keyof StatusView["steps"]; step: string; route: string }[] = [
  { key: "phoneSetup", step: "phone_setup", route: "numbers" },
  { key: "calendar", step: "calendar", route: "calendar" },
  { key: "scenarios", step: "scenarios", route: "scenarios" },
  { key: "welcomeCall", step: "welcome_call", route: "calls" },
];

/** Where in the console each `next-action` action is done. */
const ACTION_ROUTES: Record<string, string> = {
  setup_phone: "numbers",
  connect_calendar: "calendar",
  create_scenario: "scenarios",
  make_call: "calls",
};

function StepRow({ step, view, route, onSkip }: { step: string; view: StepView; route: string; onSkip?: () => void }) {
  const state = view.completed ? "done" : view.available ? "todo" : "locked";
  return (
    <li className={`step step-${state}`} data-testid={`onboarding-step-${step}`}>
      <span className="step-mark" aria-hidden="true">
        {view.completed ? "✓" : "•"}
      </span>
      <div className="step-text">
        <a href={href(route)}>{view.title}</a>
        <p>{view.description}</p>
      </div>
      <span className="step-state">{view.completed ? "Done" : view.available ? "To do" : "Later"}</span>
      {onSkip && (
        <button type="button" className="button-secondary" onClick={onSkip} data-testid={`onboarding-skip-${step}`}>
          Skip
        </button>
      )}
    </li>
  );
}

export function Dashboard() {
  const onboarding = useLoad<Onboarding>(async () => {
    const [status, next] = await Promise.all([
      api.get<StatusView>("/onboarding/status"),
      api.get<NextAction>("/onboarding/next-action"),
    ]);
    return { status, next };
  });
  const [actionError, setActionError] = useState<ApiError | null>(null);

  async function skipCalendar() {
    try {
      await api.post<StatusView>("/onboarding/complete-step", { step: "calendar" });
      setActionError(null);
      await onboarding.reload();
    } catch (err) {
      setActionError(toApiError(err));
    }
  }

  const data = onboarding.data;
  const nextRoute = data ? ACTION_ROUTES[data.next.action] : undefined;
  return (
    <div className="page" data-testid="page-dashboard">
      <h1>Dashboard</h1>
      <ErrorNotice error={onboarding.error ?? actionError} />
      {data && (
        <>
          <Card title="Next step" testId="next-action">
            <h3>{data.next.title}</h3>
            <p>{data.next.description}</p>
            {nextRoute && (
              <a className="button" href={href(nextRoute)} data-testid="next-action-link">
                Go
              </a>
            )}
          </Card>
          <UsageCard />
          <Card title="Getting started" testId="onboarding">
            <div className="progress-line">
              <progress max={100} value={data.status.completionPercentage} aria-label="Onboarding progress" />
              <span data-testid="onboarding-percentage">{Math.round(data.status.completionPercentage)}%</span>
            </div>
            <ol className="steps">
              {STEPS.map((s) => {
                const view = data.status.steps[s.key];
                // The calendar is optional: it can be skipped once it is the current step.
                const skippable = s.step === "calendar" && data.status.currentStep === "calendar" && !view.completed;
                return (
                  <StepRow
                    key={s.key}
                    step={s.step}
                    view={view}
                    route={s.route}
                    onSkip={skippable ? () => void skipCalendar() : undefined}
                  />
                );
              })}
            </ol>
          </Card>
        </>
      )}
      {onboarding.loading && !data && <p className="muted">Loading…</p>}
    </div>
  );
}
