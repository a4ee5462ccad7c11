// The shapes of the public REST answers the console reads (cloudoptima_gateway/schemas). Money is a JSON
// number rounded to cents; dates are "YYYY-MM-DD" (UTC days, end-exclusive ranges).

import type { TrendBasis } from "./monthToDate";

export interface BreakdownItem {
  dimension: string;
  cost: number;
  percentage: number;
  name?: string | null;
}

export interface CostOverview {
  start_date: string;
  end_date: string;
  granularity: string;
  group_by: string;
  currency: string;
  total_cost: number;
  period_comparison: {
    previous_period: number;
    previous_start: string;
    previous_end: string;
    change_amount: number;
    change_percent: number | null;
  };
  breakdown: BreakdownItem[];
  time_series: { date: string; cost: number }[];
  /** With period=month_to_date: what the answer covers and compares with. */
  trend_basis?: TrendBasis | null;
}

export interface ForecastPoint {
  date: string;
  predicted_cost: number;
  lower_bound: number;
  upper_bound: number;
}

export interface Forecast {
  currency: string;
  days_ahead: number;
  confidence_level: number;
  model: string | null;
  forecast: ForecastPoint[];
  total_forecasted: number;
  total_lower: number;
  total_upper: number;
  history_start: string | null;
  history_end: string | null;
  message?: string | null;
}

export interface AnomalyList {
  anomalies: { id: string; severity: string; status: string; service: string | null; impact_amount: number | null }[];
  total: number;
}

export interface Budget {
  id: string;
  name: string;
  amount: number;
  currency: string;
  current_spend: number;
  forecasted_spend: number;
  forecast_available: boolean;
  utilization_percent: number;
  status: "on_track" | "at_risk" | "exceeded";
}

export interface BudgetList {
  budgets: Budget[];
}

export interface ApprovalList {
  total: number;
}

export interface CloudAccount {
  id: string;
  provider: string;
  account_id: string;
  account_name: string | null;
  status: string;
  last_sync: string | null;
}

export interface CloudAccountList {
  accounts: CloudAccount[];
  total: number;
}
