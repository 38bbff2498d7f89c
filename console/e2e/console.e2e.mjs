// End-to-end check of the console against a running stack, in headless Chromium.
//
//   CONSOLE_URL     the console (default http://localhost:5050/console/)
//   SCREENSHOT_DIR  where the PNGs go (default ./e2e-screenshots)
//   CALL_TO         the number to dial (default +14155550123)
//   CHROMIUM        the Chromium binary (default /usr/bin/chromium)
//
// Registers a new user, creates a custom scenario (after checking that an empty persona is
// refused with a field message), places a call with `appointment_reminder` and waits for it
// to complete, talks to the custom scenario in the browser (WebRTC with a fake microphone),
// hangs up, and finds that session in the call history. Prints each step as it passes and
// `BROWSER_CALL_ID=<id>`; exits non-zero with a `failure.png` on the first step that fails.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const CONSOLE_URL = process.env.CONSOLE_URL || "http://localhost:5050/console/";
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || "e2e-screenshots";
const CALL_TO = process.env.CALL_TO || "+14155550123";
const TRANSFER_TO = "+14155550199";

const FINAL_STATUSES = ["completed", "busy", "no-answer", "failed", "canceled"];
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

mkdirSync(SCREENSHOT_DIR, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.grantPermissions(["microphone"]);
const page = await context.newPage();
page.setDefaultTimeout(15_000);

page.on("console", (msg) => {
  if (msg.type() === "error" || msg.type() === "warning") console.log(`  [browser ${msg.type()}] ${msg.text()}`);
});
page.on("pageerror", (err) => console.log(`  [browser exception] ${err.message}`));
page.on("requestfailed", (req) => console.log(`  [request failed] ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
page.on("response", (res) => {
  if (res.status() >= 400) console.log(`  [http ${res.status()}] ${res.request().method()} ${res.url()}`);
});

const testId = (id) => page.getByTestId(id);

async function screenshot(name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: true });
}

/** Run `check` every `intervalMs` until it returns a value (not undefined), or fail after `timeoutMs`. */
async function poll(what, check, { timeoutMs, intervalMs = 500 }) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const result = await check((seen) => (last = seen));
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last seen: ${last})` : ""}`);
    await page.waitForTimeout(intervalMs);
  }
}

/** The text of the first visible error notice on the page, if any. */
async function visibleError() {
  const notices = page.locator('[role="alert"]');
  const texts = [];
  for (const n of await notices.all()) if (await n.isVisible()) texts.push((await n.innerText()).trim());
  return texts.join(" | ");
}

/** Wait until `okId` shows (then true), failing at once if `errorId` shows first. */
async function outcome(what, okId, errorId, timeoutMs) {
  return poll(
    what,
    async () => {
      const error = testId(errorId).first();
      if (await error.isVisible()) throw new Error(`${what}: ${(await error.innerText()).trim()}`);
      return (await testId(okId).first().isVisible()) ? true : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

let current = "";
async function step(name, fn) {
  current = name;
  const started = Date.now();
  const value = await fn();
  console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return value;
}

try {
  await step("open the console", async () => {
    await page.goto(CONSOLE_URL);
    await testId("page-sign-in").waitFor();
  });

  const email = `console-e2e-${run}@example.com`;
  await step(`register ${email}`, async () => {
    await testId("auth-mode-register").click();
    await testId("auth-email").fill(email);
    await testId("auth-password").fill(`E2e-pass-${run}-9`);
    await screenshot("sign-in.png");
    await testId("auth-submit").click();
    await outcome("registration", "page-dashboard", "auth-error", 15_000);
  });

  await step("dashboard shows onboarding progress", async () => {
    await testId("onboarding").waitFor();
    await testId("next-action").waitFor();
    await screenshot("dashboard.png");
  });

  const persona = `E2E front desk agent ${run}, friendly and brief.`;
  await step("custom scenario form shows the API's field message for an empty persona", async () => {
    await testId("nav-scenarios").click();
    await testId("page-scenarios").waitFor();
    await testId("scenario-persona").fill("");
    await testId("scenario-prompt").fill("Confirm tomorrow's appointment and offer to reschedule if needed.");
    await testId("scenario-save").click();
    const error = testId("field-error-persona").first();
    await error.waitFor();
    const text = (await error.innerText()).trim();
    if (!text.startsWith("persona:")) throw new Error(`unexpected persona message: "${text}"`);
    console.log(`  shown: "${text}"`);
  });

  const customId = await step("create the custom scenario, with a transfer number", async () => {
    await testId("scenario-persona").fill(persona);
    await testId("scenario-transfer-number").fill(TRANSFER_TO);
    await testId("scenario-save").click();
    const row = testId("custom-scenario-row").filter({ hasText: persona });
    await row.waitFor();
    const transfer = (await row.getByTestId("custom-scenario-transfer").innerText()).trim();
    if (!transfer.includes(TRANSFER_TO)) throw new Error(`the row shows: "${transfer}"`);
    const id = await row.getAttribute("data-scenario-id");
    if (!id) throw new Error("the new scenario's row has no id");
    console.log(`  scenario id: ${id}`);
    await screenshot("scenarios.png");
    return id;
  });

  await step("phone numbers page", async () => {
    await testId("nav-numbers").click();
    await testId("page-numbers").waitFor();
    await testId("number-limits").waitFor();
    await testId("inbound-current").filter({ hasNotText: "…" }).waitFor();
    if (await testId("telephony-not-configured").isVisible()) console.log("  note: telephony is not configured on this stack");
    await screenshot("numbers.png");
  });

  const callId = await step(`place a call to ${CALL_TO} with appointment_reminder`, async () => {
    await testId("nav-calls").click();
    await testId("page-calls").waitFor();
    await testId("call-to").fill(CALL_TO);
    await testId("call-scenario").selectOption("appointment_reminder");
    await testId("call-place").click();
    await outcome("placing the call", "call-placed", "call-error", 30_000);
    const id = await testId("call-placed-id").getAttribute("data-call-id");
    console.log(`  call id: ${id}`);
    return id;
  });

  await step("the call shows completed in the history", async () => {
    const status = page.locator(`[data-testid="call-row"][data-call-id="${callId}"] [data-testid="call-status"]`);
    await poll(
      `call ${callId} to be completed`,
      async (seen) => {
        if (!(await status.count())) return undefined;
        const text = (await status.innerText()).trim();
        seen(text);
        if (text === "completed") return text;
        if (FINAL_STATUSES.includes(text)) throw new Error(`call ${callId} ended as "${text}", not completed`);
        return undefined;
      },
      { timeoutMs: 60_000 },
    );
    await screenshot("calls.png");
  });

  const browserCallId = await step("talk in the browser with the custom scenario", async () => {
    await testId("nav-talk").click();
    await testId("page-talk").waitFor();
    await testId("talk-scenario").selectOption(customId);
    await testId("talk-mic").click();
    const state = testId("browser-session-state");
    await poll(
      "browser-session-state to be connected",
      async (seen) => {
        const text = (await state.innerText()).trim();
        seen(text);
        if (text === "connected") return text;
        if (text.startsWith("error") || text === "ended") throw new Error(`browser session state: ${text}`);
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const id = (await testId("browser-session-call-id").innerText()).trim();
    if (!id) throw new Error("connected, but no call id is shown");
    console.log(`BROWSER_CALL_ID=${id}`);
    await screenshot("talk.png");
    return id;
  });

  await step("hang up the browser session", async () => {
    await testId("talk-hangup").click();
    const state = testId("browser-session-state");
    await poll("browser-session-state to be ended", async (seen) => {
      const text = (await state.innerText()).trim();
      seen(text);
      return text === "ended" ? text : undefined;
    }, { timeoutMs: 5_000, intervalMs: 100 });
  });

  await step("the history shows the browser call", async () => {
    await testId("nav-calls").click();
    await testId("page-calls").waitFor();
    const row = page.locator(`[data-testid="call-row"][data-call-id="${browserCallId}"]`);
    const direction = row.locator('[data-testid="call-direction"]');
    const status = row.locator('[data-testid="call-status"]');
    // Recorded as a browser call, and completed once the platform ended it at OpenAI.
    await poll(
      `a completed history row for ${browserCallId} with direction browser`,
      async (seen) => {
        if (await direction.count()) {
          const text = `${(await direction.innerText()).trim()} ${(await status.innerText()).trim()}`;
          seen(text);
          if (text === "browser completed") return text;
        }
        await testId("calls-refresh").click();
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    await screenshot("history.png");
  });

  await step("the dashboard shows the month's usage of both calls", async () => {
    await testId("nav-dashboard").click();
    await testId("page-dashboard").waitFor();
    const rows = testId("usage-channels").locator("tr");
    await poll(
      "usage of a phone call and a browser call",
      async (seen) => {
        const text = (await rows.allInnerTexts()).join(" | ");
        seen(text);
        // Calls are counted once the bridge has written their end.
        if (/Phone, outbound\s+1\b/.test(text) && /Browser\s+1\b/.test(text)) return text;
        // Away and back: the dashboard loads the usage afresh.
        await testId("nav-calls").click();
        await testId("page-calls").waitFor();
        await testId("nav-dashboard").click();
        await testId("usage").waitFor();
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    const month = (await testId("usage-month").innerText()).trim();
    if (!/call minutes used · estimated cost \$\d+\.\d\d$/.test(month)) throw new Error(`the card says: "${month}"`);
    console.log(`  ${month}`);
    await screenshot("usage.png");
  });

  await step("back from Google's consent page, the calendar page says how it went", async () => {
    // Where the API's OAuth callback redirects (FRONTEND_URL/scheduled-meetings).
    await page.goto(new URL("/scheduled-meetings?success=true&connected=calendar", CONSOLE_URL).href);
    await testId("page-calendar").waitFor();
    const notice = (await testId("calendar-return").innerText()).trim();
    if (notice !== "Google Calendar is connected.") throw new Error(`the notice says: ${notice}`);
    if (!page.url().endsWith("/console/#/calendar")) throw new Error(`the address stayed ${page.url()}`);
  });

  console.log("ALL STEPS PASSED");
  await browser.close();
} catch (err) {
  const shown = await visibleError().catch(() => "");
  console.error(`FAIL ${current}: ${err instanceof Error ? err.message : err}`);
  if (shown) console.error(`  the page shows: ${shown}`);
  await screenshot("failure.png").catch((e) => console.error(`  (no failure.png: ${e.message})`));
  console.error(`  screenshot: ${path.join(SCREENSHOT_DIR, "failure.png")}`);
  await browser.close();
  process.exit(1);
}
