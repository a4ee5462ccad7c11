// Sign-in with email and password (POST /v1/auth/login), or through the organisation's identity provider
// (SSO: the browser goes to /v1/auth/sso/login?...&client=console and comes back to "/" signed in, or to
// "/?sso_error=<message>", shown here); the API's message is shown on failure.

import { useState, type FormEvent } from "react";
import { login } from "../lib/api";
import { sentence } from "../lib/polish";
import { rememberSlug, rememberedSlug, ssoLoginUrl, takeSsoError } from "../lib/sso";
import "./login.css";

/** The SSO refusal the callback sent back, read once (the URL is cleaned so a reload does not repeat it). */
function initialSsoError(): string | null {
  const taken = takeSsoError(window.location.search);
  if (taken === null) return null;
  window.history.replaceState(null, "", `${window.location.pathname}${taken.rest}`);
  return taken.message;
}

export function Login({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [slug, setSlug] = useState(rememberedSlug);
  const [ssoError, setSsoError] = useState<string | null>(initialSsoError);

  function startSso(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    try {
      const url = ssoLoginUrl(slug);
      rememberSlug(slug.trim().toLowerCase());
      window.location.assign(url);
    } catch (err: unknown) {
      setSsoError(err instanceof Error ? err.message : String(err));
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
      onSignedIn();
    } catch (err: unknown) {
      setError(sentence(err instanceof Error ? err.message : String(err)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login" data-testid="login-screen">
      <form className="login-card" onSubmit={(e) => void submit(e)} data-testid="login-form" aria-labelledby="login-title">
        <h1 id="login-title">CloudOptima</h1>
        <p className="muted">Sign in to your organisation.</p>
        <label htmlFor="login-email">Email</label>
        <input id="login-email" data-testid="login-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" data-testid="login-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error !== null && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" data-testid="login-submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <form className="login-card login-sso" onSubmit={startSso} data-testid="sso-form" aria-label="Sign in with SSO">
        <label htmlFor="sso-slug">Organisation (single sign-on)</label>
        <input id="sso-slug" data-testid="sso-slug" type="text" autoComplete="organization" autoCapitalize="none" spellCheck={false} required placeholder="your-company" value={slug} onChange={(e) => setSlug(e.target.value)} />
        {ssoError !== null && (
          <p className="error" role="alert" data-testid="sso-error">
            {ssoError}
          </p>
        )}
        <button type="submit" data-testid="sso-submit">
          Sign in with SSO
        </button>
      </form>
    </main>
  );
}
