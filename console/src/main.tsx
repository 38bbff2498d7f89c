import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { loadConfig } from "./config";
import { refresh } from "./auth/session";
import { takeCalendarReturn } from "./calendarReturn";
import { App } from "./App";
import "./styles.css";

// Settings first, then resume this tab's session (if it has a refresh token), then render.
async function start() {
  takeCalendarReturn();
  await loadConfig();
  await refresh();
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

void start();
