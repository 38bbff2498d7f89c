// Coming back from Google's consent page. The API's OAuth callback redirects to
// `FRONTEND_URL/scheduled-meetings?success=true&connected=calendar`, or
// `?error=calendar_connection_failed&message=...` (the reference frontend's address). When the
// console is FRONTEND_URL, that address loads the console: it moves to the calendar page and
// shows the outcome once.

export interface CalendarReturn {
  connected: boolean;
  message: string;
}

let pending: CalendarReturn | null = null;

/** Called once at start: takes the outcome out of the address, if this is Google's return. */
export function takeCalendarReturn(): void {
  const { pathname, search } = window.location;
  if (!pathname.replace(/\/+$/, "").endsWith("/scheduled-meetings")) return;
  const params = new URLSearchParams(search);
  pending =
    params.get("success") === "true"
      ? { connected: true, message: "Google Calendar is connected." }
      : {
          connected: false,
          message: params.get("message") || "Google Calendar could not be connected; please try again.",
        };
  window.history.replaceState(null, "", `${import.meta.env.BASE_URL}#/calendar`);
}

/** The outcome to show, once. */
export function calendarReturn(): CalendarReturn | null {
  const outcome = pending;
  pending = null;
  return outcome;
}
