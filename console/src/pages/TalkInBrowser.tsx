// Talk to a scenario's agent from this browser, with the microphone.

import { useEffect, useRef, useState } from "react";
import type { RealtimeSession } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { ScenarioSelect } from "../components/ScenarioSelect";
import { useScenarios } from "../hooks/useScenarios";
import { BrowserSession, type SessionState, type TranscriptLine } from "../realtime/browserSession";
import { href } from "../router";

const ACTIVE: readonly SessionState[] = ["requesting-microphone", "signalling", "connected"];

export function TalkInBrowser() {
  const scenarios = useScenarios();
  const [scenario, setScenario] = useState("default");
  const [state, setState] = useState<SessionState>("idle");
  const [session, setSession] = useState<RealtimeSession | null>(null);
  const [lines, setLines] = useState<TranscriptLine[]>([]);
  const current = useRef<BrowserSession | null>(null);
  const audio = useRef<HTMLAudioElement>(null);

  // Leaving the page hangs up.
  useEffect(() => () => current.current?.hangUp(), []);

  function start() {
    current.current?.hangUp();
    setSession(null);
    setLines([]);
    const s: BrowserSession = new BrowserSession({
      onState: (next) => current.current === s && setState(next),
      onSession: (next) => current.current === s && setSession(next),
      onRemoteStream: (stream) => {
        if (audio.current) audio.current.srcObject = stream;
      },
      onTranscript: (line) => setLines((l) => [...l, line]),
    });
    current.current = s;
    void s.start(scenario);
  }

  const active = ACTIVE.includes(state);
  return (
    <div className="page" data-testid="page-talk">
      <h1>Talk in browser</h1>
      <ErrorNotice error={scenarios.error} />
      <Card title="Talk to an agent">
        <p className="muted">Speak with a scenario's agent through your microphone, as a caller would on the phone.</p>
        <div className="form form-inline">
          <label>
            <span className="field-label">Scenario</span>
            <ScenarioSelect scenarios={scenarios.data} value={scenario} onChange={setScenario} testId="talk-scenario" />
          </label>
        </div>
        <div className="talk-controls">
          <button
            type="button"
            className={`mic ${active ? "mic-on" : ""}`}
            onClick={start}
            disabled={active || !scenario}
            aria-label="Start talking"
            data-testid="talk-mic"
          >
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z" />
            </svg>
          </button>
          <button
            type="button"
            className="button-danger"
            onClick={() => current.current?.hangUp()}
            disabled={!active}
            data-testid="talk-hangup"
          >
            Hang up
          </button>
        </div>
        <dl className="facts">
          <div>
            <dt>State</dt>
            <dd>
              <span className={`session-state ${state.startsWith("error") ? "is-error" : ""}`} data-testid="browser-session-state">
                {state}
              </span>
            </dd>
          </div>
          <div>
            <dt>Call</dt>
            <dd>
              {session ? (
                <a href={href("calls", session.call_id)} data-testid="browser-session-call-id">
                  {session.call_id}
                </a>
              ) : (
                <span data-testid="browser-session-call-id" />
              )}
            </dd>
          </div>
          {session && (
            <div>
              <dt>Time limit</dt>
              <dd>{Math.round(session.max_duration_seconds / 60)} min</dd>
            </div>
          )}
        </dl>
        <audio ref={audio} autoPlay data-testid="talk-audio" />
      </Card>
      <Card title="Conversation">
        {lines.length === 0 ? (
          <p className="muted">What you and the agent say appears here.</p>
        ) : (
          <ol className="sentences" data-testid="browser-transcript">
            {lines.map((l, i) => (
              <li key={i} className={`sentence sentence-${l.speaker === "agent" ? "agent" : "customer"}`}>
                <span className="speaker">{l.speaker}</span>
                <span>{l.text}</span>
              </li>
            ))}
          </ol>
        )}
      </Card>
    </div>
  );
}
