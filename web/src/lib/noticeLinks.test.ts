import { describe, expect, it } from "vitest";
import { consolePath } from "./notifications";

// The links notices carry (cloudoptima/services/notice_links.py): console pages when a console URL is set,
// API paths for headless installs; both open the console's page.
describe("notice links open the console", () => {
  const id = "0b8d0c4e-6f1a-4c55-9a4e-2f0d1e7a9c11";

  it("opens console pages in place, absolute on this origin or as paths", () => {
    for (const page of [`/anomalies/${id}`, `/recommendations/${id}`, `/approvals/${id}`, `/policies/${id}`, "/reports", "/budgets", "/accounts"]) {
      expect(consolePath(`http://h${page}`, "http://h")).toEqual({ internal: true, href: page });
      expect(consolePath(page, "http://h")).toEqual({ internal: true, href: page });
    }
  });

  it("maps each API path to its page", () => {
    expect(consolePath(`/v1/recommendations/${id}`, "http://h")).toEqual({ internal: true, href: `/recommendations/${id}` });
    expect(consolePath(`http://h/v1/executions/${id}`, "http://h")).toEqual({ internal: true, href: `/approvals/${id}` });
    expect(consolePath(`/v1/policies/${id}`, "http://h")).toEqual({ internal: true, href: `/policies/${id}` });
    expect(consolePath(`/v1/budgets/${id}`, "http://h")).toEqual({ internal: true, href: "/budgets" });
    expect(consolePath(`/v1/cloud-accounts/${id}`, "http://h")).toEqual({ internal: true, href: "/accounts" });
    expect(consolePath(`/v1/reports/${id}`, "http://h")).toEqual({ internal: true, href: "/reports" });
  });

  it("leaves other API paths and other origins alone", () => {
    expect(consolePath(`/v1/executions/${id}/rollback`, "http://h")).toEqual({ internal: false, href: `/v1/executions/${id}/rollback` });
    expect(consolePath("/v1/budgets", "http://h")).toEqual({ internal: false, href: "/v1/budgets" });
    expect(consolePath(`https://console.example/anomalies/${id}`, "http://h")).toEqual({ internal: false, href: `https://console.example/anomalies/${id}` });
  });
});
