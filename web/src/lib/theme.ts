// Dark and light themes: the system's prefers-color-scheme unless the reader picked one with the toggle
// (remembered in localStorage: a preference, not a secret). Applied as <html data-theme="...">.

export type Theme = "light" | "dark";
const KEY = "cloudoptima.theme";

export function systemTheme(): Theme {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function storedTheme(): Theme | null {
  try {
    const value = window.localStorage.getItem(KEY);
    return value === "dark" || value === "light" ? value : null;
  } catch {
    return null;
  }
}

export function applyTheme(theme: Theme, remember: boolean): void {
  document.documentElement.dataset.theme = theme;
  if (remember) {
    try {
      window.localStorage.setItem(KEY, theme);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }
}
