import { describe, expect, it } from "vitest";
import {
  defaultTracker,
  editOf,
  trackerPatch,
  emptyTrackerForm,
  projectLabel,
  ticketLabel,
  ticketStateText,
  trackerBody,
  webhookUrl,
  withKind,
  type Tracker,
} from "./tickets";

const tracker = (id: string): Tracker => ({
  id, name: id, kind: "github", base_url: "https://api.github.com", project: "o/r", login: null, token_set: true,
  webhook_secret_set: true, webhook_url_path: `/v1/ticket-trackers/${id}/webhook`, last_synced_at: null,
  last_sync_error: null, created_at: "2031-01-01T00:00:00Z",
});

describe("trackerBody", () => {
  it("sends login only for Jira and leaves a blank secret out", () => {
    const github = { ...emptyTrackerForm("github"), name: " gh ", project: " acme/infra ", token: "t", login: "x@y.z" };
    expect(trackerBody(github)).toEqual({ name: "gh", kind: "github", base_url: "https://api.github.com", project: "acme/infra", token: "t" });
    const jira = { ...emptyTrackerForm("jira"), name: "j", base_url: "https://acme.atlassian.net", project: "OPS", login: " ops@acme.com ", token: "t", webhook_secret: " s3cret-s3cret-16 " };
    expect(trackerBody(jira)).toEqual({
      name: "j", kind: "jira", base_url: "https://acme.atlassian.net", project: "OPS", token: "t", login: "ops@acme.com",
      webhook_secret: "s3cret-s3cret-16",
    });
  });

  it("a base URL still at the kind's default follows the kind; a typed one stays", () => {
    expect(withKind(emptyTrackerForm("github"), "jira").base_url).toBe("https://");
    expect(withKind({ ...emptyTrackerForm("jira"), base_url: "https://acme.atlassian.net" }, "github").base_url).toBe("https://acme.atlassian.net");
    expect(withKind(emptyTrackerForm("webhook"), "github").base_url).toBe("https://api.github.com");
  });
});

describe("ticket words", () => {
  it("names every stored state and keeps an unknown one", () => {
    expect(["open", "completed", "not_planned", "gone", "weird"].map(ticketStateText)).toEqual([
      "Open", "Closed as completed", "Closed as not planned", "Deleted or moved in the tracker", "weird",
    ]);
  });

  it("labels GitHub issues by number and others by key", () => {
    expect(ticketLabel({ kind: "github", external_key: "12" })).toBe("#12");
    expect(ticketLabel({ kind: "jira", external_key: "OPS-7" })).toBe("OPS-7");
    expect(projectLabel("github")).toMatch(/owner\/repo/);
  });

  it("joins the public origin and the webhook path with one slash", () => {
    expect(webhookUrl("https://finops.example.com/", "/v1/ticket-trackers/1/webhook")).toBe("https://finops.example.com/v1/ticket-trackers/1/webhook");
    expect(webhookUrl("https://finops.example.com", "v1/x")).toBe("https://finops.example.com/v1/x");
  });

  it("preselects the only tracker, none when there are several", () => {
    expect(defaultTracker([tracker("a")])).toBe("a");
    expect(defaultTracker([tracker("a"), tracker("b")])).toBe("");
    expect(defaultTracker([])).toBe("");
  });
});

describe("trackerPatch", () => {
  it("sends only what changed; a blank token keeps the stored one; login only for Jira", () => {
    const gh = tracker("a");
    expect(trackerPatch(gh, editOf(gh))).toEqual({});
    expect(trackerPatch(gh, { ...editOf(gh), project: " o/s ", token: "new", rotate: true, login: "x@y.z" })).toEqual({
      project: "o/s", token: "new", rotate_webhook_secret: true,
    });
    const jira: Tracker = { ...gh, kind: "jira", project: "OPS", login: "a@b.c" };
    expect(trackerPatch(jira, { ...editOf(jira), login: "d@e.f" })).toEqual({ login: "d@e.f" });
  });
});
