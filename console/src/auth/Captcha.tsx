// The CAPTCHA widget of the configured provider (Turnstile, hCaptcha or reCAPTCHA v2).
// Renders nothing when config.json names no site key. Tokens are single-use: the parent
// remounts this component (a new `key`) after each submission to get a fresh one.

import { useEffect, useRef } from "react";
import { config, type CaptchaProvider } from "../config";

interface WidgetApi {
  render(el: HTMLElement, options: Record<string, unknown>): unknown;
}

const SCRIPTS: Record<CaptchaProvider, { src: string; global: string }> = {
  turnstile: { src: "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit", global: "turnstile" },
  hcaptcha: { src: "https://js.hcaptcha.com/1/api.js?render=explicit", global: "hcaptcha" },
  recaptcha: { src: "https://www.google.com/recaptcha/api.js?render=explicit", global: "grecaptcha" },
};

let loading: Promise<WidgetApi> | null = null;

function widgetApi(provider: CaptchaProvider): WidgetApi | undefined {
  const api = (window as unknown as Record<string, WidgetApi | undefined>)[SCRIPTS[provider].global];
  return api && typeof api.render === "function" ? api : undefined;
}

function loadScript(provider: CaptchaProvider): Promise<WidgetApi> {
  loading ??= new Promise<WidgetApi>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = SCRIPTS[provider].src;
    script.async = true;
    script.onerror = () => {
      loading = null; // let a later attempt try again
      script.remove();
      reject(new Error("The CAPTCHA could not be loaded"));
    };
    script.onload = () => {
      // reCAPTCHA defines `render` only once its own second script has run.
      const started = Date.now();
      const poll = () => {
        const api = widgetApi(provider);
        if (api) resolve(api);
        else if (Date.now() - started > 10_000) reject(new Error("The CAPTCHA did not start"));
        else setTimeout(poll, 50);
      };
      poll();
    };
    document.head.appendChild(script);
  });
  return loading;
}

export function Captcha({ onToken }: { onToken: (token: string | null) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const captcha = config().captcha;

  useEffect(() => {
    if (!captcha || !box.current) return;
    const el = document.createElement("div");
    box.current.replaceChildren(el);
    let active = true;
    loadScript(captcha.provider)
      .then((api) => {
        if (!active) return;
        api.render(el, {
          sitekey: captcha.siteKey,
          callback: (token: string) => onToken(token),
          "expired-callback": () => onToken(null),
          "error-callback": () => onToken(null),
        });
      })
      .catch((err: Error) => {
        if (active) el.textContent = err.message;
      });
    return () => {
      active = false;
    };
  }, [captcha, onToken]);

  if (!captcha) return null;
  return <div className="captcha" ref={box} data-testid="captcha" />;
}
