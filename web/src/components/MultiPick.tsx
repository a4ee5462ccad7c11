// A multi-value picker: a button (aria-expanded) showing "All …" or "n selected" that opens a panel with a
// search box and a checkbox list. Keyboard: Tab moves through search box and checkboxes, Space ticks,
// Escape closes and returns focus to the button; a click outside closes it. Tests read ``data-selected``
// (the chosen values, comma-joined, in option order then unknown ones) and ``data-count``.

import { useEffect, useId, useRef, useState } from "react";
import { pickSummary, visibleOptions, type PickOption } from "../lib/multiPick";
import "./MultiPick.css";

export type { PickOption } from "../lib/multiPick";

export function MultiPick({
  testId,
  label,
  options,
  selected,
  onChange,
  allText,
}: {
  testId: string;
  label: string;
  options: readonly PickOption[];
  selected: readonly string[];
  onChange: (next: string[]) => void;
  /** The summary when nothing is chosen (e.g. "All accounts"). */
  allText: string;
}) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState("");
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    searchBox.current?.focus();
    const outside = (event: MouseEvent): void => {
      if (root.current && event.target instanceof Node && !root.current.contains(event.target)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);

  const toggle = (value: string, on: boolean): void => {
    const next = on ? [...selected, value] : selected.filter((v) => v !== value);
    onChange(options.map((o) => o.value).filter((v) => next.includes(v)).concat(next.filter((v) => !options.some((o) => o.value === v))));
  };
  const shown = visibleOptions(options, selected, search);

  return (
    <div
      className="multipick"
      ref={root}
      data-testid={testId}
      data-selected={selected.join(",")}
      data-count={selected.length}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.stopPropagation();
          setOpen(false);
          button.current?.focus();
        }
      }}
    >
      <span className="multipick-label" id={`${id}-label`}>{label}</span>
      <button
        type="button"
        ref={button}
        className="multipick-toggle"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        aria-labelledby={`${id}-label ${id}-summary`}
        data-testid={`${testId}-toggle`}
        onClick={() => setOpen((o) => !o)}
      >
        <span id={`${id}-summary`}>{pickSummary(selected, allText)}</span>
      </button>
      {open && (
        <div className="multipick-panel" id={`${id}-panel`} role="group" aria-labelledby={`${id}-label`} data-testid={`${testId}-panel`}>
          <input
            type="search"
            ref={searchBox}
            placeholder="Search"
            aria-label={`Search ${label.toLowerCase()}`}
            data-testid={`${testId}-search`}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          {shown.length === 0 ? (
            <p className="muted small" data-testid={`${testId}-empty`}>{options.length === 0 ? "Nothing to choose in this period" : "No match"}</p>
          ) : (
            <ul className="multipick-list">
              {shown.map((o) => (
                <li key={o.value}>
                  <label>
                    <input type="checkbox" data-testid={`${testId}-option`} data-value={o.value} checked={selected.includes(o.value)} onChange={(e) => toggle(o.value, e.target.checked)} />
                    <span>{o.label}</span>
                    {o.hint && <span className="muted small">{o.hint}</span>}
                  </label>
                </li>
              ))}
            </ul>
          )}
          <div className="multipick-actions">
            <button type="button" data-testid={`${testId}-clear`} disabled={selected.length === 0} onClick={() => onChange([])}>
              Clear
            </button>
            <button type="button" data-testid={`${testId}-done`} onClick={() => { setOpen(false); button.current?.focus(); }}>
              Done
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
