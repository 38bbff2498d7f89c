// The signed-in frame: navigation on the left, the current page on the right.

import { api } from "./api/client";
import type { UserView } from "./api/types";
import { signOut } from "./auth/session";
import { useLoad } from "./hooks/useLoad";
import { href, useRoute } from "./router";
import { Dashboard } from "./pages/Dashboard";
import { Scenarios } from "./pages/Scenarios";
import { Numbers } from "./pages/Numbers";
import { Calls } from "./pages/Calls";
import { CallDetail } from "./pages/CallDetail";
import { Transcripts } from "./pages/Transcripts";
import { TranscriptDetail } from "./pages/TranscriptDetail";
import { Calendar } from "./pages/Calendar";
import { TalkInBrowser } from "./pages/TalkInBrowser";

const NAV = [
  { route: "dashboard", label: "Dashboard" },
  { route: "scenarios", label: "Scenarios" },
  { route: "numbers", label: "Phone numbers" },
  { route: "calls", label: "Calls" },
  { route: "transcripts", label: "Transcripts" },
  { route: "calendar", label: "Calendar" },
  { route: "talk", label: "Talk in browser" },
] as const;

function Page({ route }: { route: string[] }) {
  const [section, id] = route;
  switch (section) {
    case "scenarios":
      return <Scenarios />;
    case "numbers":
      return <Numbers />;
    case "calls":
      return id ? <CallDetail callId={id} /> : <Calls />;
    case "transcripts":
      return id ? <TranscriptDetail transcriptSid={id} /> : <Transcripts />;
    case "calendar":
      return <Calendar />;
    case "talk":
      return <TalkInBrowser />;
    default:
      return <Dashboard />;
  }
}

export function Layout() {
  const route = useRoute();
  const section = route[0] ?? "dashboard";
  const me = useLoad(() => api.get<UserView>("/users/me"));
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">AI Phone Agents</div>
        <ul>
          {NAV.map((item) => (
            <li key={item.route}>
              <a
                href={href(item.route)}
                className={section === item.route ? "active" : undefined}
                aria-current={section === item.route ? "page" : undefined}
                data-testid={`nav-${item.route}`}
              >
                {item.label}
              </a>
            </li>
          ))}
        </ul>
        <div className="sidebar-footer">
          {me.data && (
            <div className="user" data-testid="user-email">
              {me.data.email}
            </div>
          )}
          <button type="button" className="button-secondary" onClick={() => void signOut()} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">
        <Page route={route} />
      </main>
    </div>
  );
}
