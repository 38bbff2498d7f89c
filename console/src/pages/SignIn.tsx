// Sign in or register (e-mail and password; a CAPTCHA token when the deployment wants one).

import { useCallback, useState, type FormEvent } from "react";
import { request, toApiError, type ApiError } from "../api/client";
import type { TokenResponse } from "../api/types";
import { startSession } from "../auth/session";
import { Captcha } from "../auth/Captcha";
import { config } from "../config";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";

type Mode = "signin" | "register";

export function SignIn() {
  const [mode, setMode] = useState<Mode>("signin");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [captchaToken, setCaptchaToken] = useState<string | null>(null);
  const [captchaKey, setCaptchaKey] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const onToken = useCallback((token: string | null) => setCaptchaToken(token), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { email, password, ...(captchaToken ? { captcha_token: captchaToken } : {}) };
    try {
      const path = mode === "register" ? "/auth/register" : "/auth/login";
      const tokens = await request<TokenResponse>("POST", path, { body, anonymous: true });
      startSession(tokens);
      if (!window.location.hash) window.location.hash = "#/dashboard";
    } catch (err) {
      setError(toApiError(err));
      // A CAPTCHA token is good for one attempt: show a fresh widget.
      setCaptchaToken(null);
      setCaptchaKey((k) => k + 1);
    } finally {
      setBusy(false);
    }
  }

  const register = mode === "register";
  const needsCaptcha = config().captcha !== null && !captchaToken;
  return (
    <div className="auth-page" data-testid="page-sign-in">
      <form className="card auth-card" onSubmit={submit} noValidate>
        <h1>AI Phone Agents</h1>
        <div className="tabs" role="tablist">
          {(["signin", "register"] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              className={mode === m ? "tab active" : "tab"}
              onClick={() => {
                setMode(m);
                setError(null);
              }}
              data-testid={`auth-mode-${m}`}
            >
              {m === "signin" ? "Sign in" : "Create account"}
            </button>
          ))}
        </div>
        <Field label="E-mail" name="email" error={error}>
          <input
            type="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            data-testid="auth-email"
          />
        </Field>
        <Field
          label="Password"
          name="password"
          error={error}
          hint={register ? "10 to 128 characters, with a letter and a digit or symbol." : undefined}
        >
          <input
            type="password"
            autoComplete={register ? "new-password" : "current-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="auth-password"
          />
        </Field>
        <Captcha key={captchaKey} onToken={onToken} />
        <ErrorNotice error={error} shownFields={["email", "password"]} testId="auth-error" />
        <button type="submit" disabled={busy || needsCaptcha} data-testid="auth-submit">
          {register ? "Create account" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
