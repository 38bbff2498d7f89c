// Deployment settings, read once at start from `config.json` next to index.html.
// Without one, the API is this page's own origin and CAPTCHA is off.

export type CaptchaProvider = "turnstile" | "hcaptcha" | "recaptcha";

export interface ConsoleConfig {
  apiBaseUrl: string;
  captcha: { siteKey: string; provider: CaptchaProvider } | null;
}

const PROVIDERS: readonly CaptchaProvider[] = ["turnstile", "hcaptcha", "recaptcha"];

let current: ConsoleConfig = { apiBaseUrl: window.location.origin, captcha: null };

export function config(): ConsoleConfig {
  return current;
}

export async function loadConfig(): Promise<void> {
  let raw: Record<string, unknown> = {};
  try {
    const res = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
    if (res.ok && (res.headers.get("content-type") ?? "").includes("json")) {
      raw = (await res.json()) as Record<string, unknown>;
    }
  } catch {
    // No config.json: same-origin API, no CAPTCHA.
  }
  const base = typeof raw.apiBaseUrl === "string" && raw.apiBaseUrl.trim() ? raw.apiBaseUrl.trim() : "";
  const siteKey = typeof raw.captchaSiteKey === "string" ? raw.captchaSiteKey.trim() : "";
  const provider = PROVIDERS.find((p) => p === raw.captchaProvider) ?? "turnstile";
  current = {
    apiBaseUrl: (base || window.location.origin).replace(/\/+$/, ""),
    captcha: siteKey ? { siteKey, provider } : null,
  };
}
