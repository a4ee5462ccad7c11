// The app shell: sign-in gate, navigation (only screens that exist are listed), theme toggle, sign-out.

import { useEffect, useRef, useState, type ReactNode } from "react";
import { logout } from "./lib/api";
import { ChatPanel } from "./components/ChatPanel";
import { usePrincipal } from "./lib/hooks";
import { can } from "./lib/session";
import { navigate, usePath } from "./lib/router";
import { applyTheme, storedTheme, systemTheme, type Theme } from "./lib/theme";
import { Login } from "./screens/Login";
import { useRestoring } from "./lib/restore";
import { Overview } from "./screens/Overview";
import { CostExplorer } from "./screens/CostExplorer";
import { Budgets } from "./screens/Budgets";
import { Accounts } from "./screens/Accounts";
import { Reports } from "./screens/Reports";
import { Notifications } from "./screens/Notifications";
import { NotificationBell } from "./components/NotificationBell";
import { Anomalies } from "./screens/Anomalies";
import { Recommendations } from "./screens/Recommendations";
import { Approvals } from "./screens/Approvals";
import { Policies } from "./screens/Policies";
import { Allocation } from "./screens/Allocation";
import { Tags } from "./screens/Tags";
import { DataHealth } from "./screens/DataHealth";
import { Exports } from "./screens/Exports";
import { TicketTrackers } from "./screens/TicketTrackers";
import { Savings } from "./screens/Savings";
import { Commitments } from "./screens/Commitments";
import "./shell-polish.css";

interface Screen {
  path: string;
  label: string;
  testId: string;
  /** The permission the screen's reads need (the nav hides it from roles without it); none: every role. */
  permission?: string;
  /** The screen; ``rest`` is what follows ``path`` for a detail route (``/anomalies/<id>`` → ``<id>``), else "". */
  render: (rest: string) => ReactNode;
}

/** The screen for ``path`` and the rest of the path after it: an exact match, else the longest screen path that
 * is a prefix followed by "/" (detail routes such as ``/recommendations/<id>``). */
function route(path: string): [Screen, string] | undefined {
  const exact = SCREENS.find((s) => s.path === path);
  if (exact) return [exact, ""];
  const prefixed = SCREENS.filter((s) => s.path !== "/" && path.startsWith(`${s.path}/`)).sort(
    (a, b) => b.path.length - a.path.length,
  )[0];
  return prefixed ? [prefixed, decodeURIComponent(path.slice(prefixed.path.length + 1))] : undefined;
}

/** The screens in the navigation, in order. Add a screen here when it is built. */
const SCREENS: readonly Screen[] = [{ path: "/", label: "Overview", testId: "nav-overview", render: () => <Overview /> },
  { path: "/costs", label: "Cost explorer", testId: "nav-costs", render: () => <CostExplorer /> },
  { path: "/budgets", label: "Budgets", testId: "nav-budgets", render: () => <Budgets /> },
  { path: "/allocation", label: "Allocation", testId: "nav-allocation", render: (rest) => <Allocation rest={rest} /> },
  { path: "/accounts", label: "Cloud accounts", testId: "nav-accounts", render: () => <Accounts /> },
  { path: "/reports", label: "Reports", testId: "nav-reports", permission: "read:reports", render: () => <Reports /> },
  { path: "/notifications", label: "Notifications", testId: "nav-notifications", render: () => <Notifications /> },
  { path: "/anomalies", label: "Anomalies", testId: "nav-anomalies", render: (rest) => <Anomalies rest={rest} /> },
  { path: "/recommendations", label: "Recommendations", testId: "nav-recommendations", render: (rest) => <Recommendations rest={rest} /> },
  { path: "/approvals", label: "Approvals", testId: "nav-approvals", render: (rest) => <Approvals rest={rest} /> },
  { path: "/policies", label: "Policies", testId: "nav-policies", render: (rest) => <Policies rest={rest} /> },
  { path: "/tags", label: "Tags", testId: "nav-tags", render: () => <Tags /> },
  { path: "/data", label: "Data health", testId: "nav-data", render: () => <DataHealth /> },
  { path: "/exports", label: "Exports", testId: "nav-exports", render: () => <Exports /> },
  { path: "/savings", label: "Savings", testId: "nav-savings", permission: "read:costs", render: () => <Savings /> },
  { path: "/commitments", label: "Commitments", testId: "nav-commitments", permission: "read:costs", render: () => <Commitments /> },
  { path: "/trackers", label: "Ticket trackers", testId: "nav-trackers", permission: "manage:organization", render: () => <TicketTrackers /> }];

function NotFound() {
  return (
    <div data-testid="not-found">
      <h1>Page not found</h1>
      <p>
        <a href="/" onClick={(e) => { e.preventDefault(); navigate("/"); }}>Go to the overview</a>
      </p>
    </div>
  );
}

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(storedTheme() ?? systemTheme());
  useEffect(() => {
    applyTheme(theme, false);
    if (storedTheme() !== null) return;
    const media = window.matchMedia?.("(prefers-color-scheme: dark)");
    const follow = (): void => setTheme(systemTheme());
    media?.addEventListener("change", follow);
    return () => media?.removeEventListener("change", follow);
  }, [theme]);
  const toggle = (): void => {
    const next: Theme = theme === "dark" ? "light" : "dark";
    applyTheme(next, true);
    setTheme(next);
  };
  return [theme, toggle];
}

export function App() {
  const principal = usePrincipal();
  const path = usePath();
  const [theme, toggleTheme] = useTheme();
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // While the phone menu is open, Escape closes it and gives focus back to its button.
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== "Escape") return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menuOpen]);
  const restoring = useRestoring(); // a reload or the return from SSO: the refresh cookie signs in again

  if (principal === null && restoring) return <main className="login" data-testid="session-restoring" data-state="loading" aria-busy="true" />;
  if (principal === null) return <Login onSignedIn={() => navigate(path === "/login" ? "/" : path)} />;

  // Signed in, /login is the overview (a bookmarked sign-in page).
  const found = route(path === "/login" ? "/" : path);
  return (
    <div className="shell" data-testid="app-shell" data-role={principal.role}>
      <a
        className="skip-link"
        href="#content"
        data-testid="skip-link"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("content")?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" ref={menuButton} className="menu-button" aria-expanded={menuOpen} aria-controls="main-nav" data-testid="nav-toggle" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <span className="brand">CloudOptima</span>
        <span className="spacer" />
        <ChatPanel />
        <NotificationBell />
        <span className="role" data-testid="current-role" title="Your role">
          {principal.role.replace("_", " ")}
        </span>
        <button type="button" data-testid="theme-toggle" aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`} onClick={toggleTheme}>
          {theme === "dark" ? "Light" : "Dark"}
        </button>
        <button type="button" data-testid="logout" onClick={() => void logout().then(() => navigate("/"))}>
          Sign out
        </button>
      </header>
      <nav id="main-nav" className={menuOpen ? "nav open" : "nav"} aria-label="Main" data-testid="main-nav">
        <ul>
          {SCREENS.filter((s) => s.permission === undefined || can(principal, s.permission)).map((s) => (
            <li key={s.path}>
              <a
                href={s.path}
                data-testid={s.testId}
                aria-current={found?.[0] === s ? "page" : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  setMenuOpen(false);
                  navigate(s.path);
                }}
              >
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content" id="content" tabIndex={-1}>
        {found ? found[0].render(found[1]) : <NotFound />}
      </main>
    </div>
  );
}
