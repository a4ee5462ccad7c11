"""Named rule profiles: every threshold a recommendation rule uses, with the published source it follows.

Rule ids and source keys are those of ``finops-facts.md`` §4 (sources listed in its §10). Where vendors
disagree we keep one profile per vendor; ``RuleSettings`` picks one profile per rule (the defaults are
marked below). Utilisation arrives as summaries of hourly samples (avg / max / p95 / p99 / samples per
metric), so vendor conditions on daily figures are restated on those summaries; each profile says how.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOURS_PER_DAY = 24
MB = 1_000_000


@dataclass(frozen=True)
class IdleVmProfile:
    """A running VM doing no work: CPU statistic ≤ limit and network ≤ limit per day → stop it.

    ``cpu_stat`` is the summary statistic compared with ``cpu_max_percent``; with ``cpu_per_vcpu`` the limit
    is in vCPUs (GCP: 0.03 vCPU) and converted to percent of the VM's vCPUs. ``network_bytes_per_day`` bounds
    the mean daily in + out traffic; ``network_p95_in/out_bytes_per_hour`` bound the p95 of hourly traffic.
    """

    name: str
    source: str
    cpu_stat: str
    cpu_max_percent: float
    min_days: int
    cpu_per_vcpu: bool = False
    network_bytes_per_day: float | None = None
    network_p95_in_bytes_per_hour: float | None = None
    network_p95_out_bytes_per_hour: float | None = None


AWS_TRUSTED_ADVISOR_LOW_UTILISATION = IdleVmProfile(
    name="aws_trusted_advisor_low_utilization",
    source="R-EC2-TA-LOW [T2]: daily average CPU ≤ 10 % and network I/O ≤ 5 MB, last 14 days "
    "(restated on the whole window: mean CPU ≤ 10 % and mean daily network ≤ 5 MB)",
    cpu_stat="avg",
    cpu_max_percent=10.0,
    network_bytes_per_day=5 * MB,
    min_days=14,
)
AZURE_ADVISOR_SHUTDOWN = IdleVmProfile(
    name="azure_advisor_shutdown",
    source="R-VM-AZ-SHUTDOWN [Z1]: P95 CPU < 3 % and outbound network < 2 % over 7 days (network share of "
    "NIC bandwidth is not observable from byte counts: restated as mean daily network ≤ 5 MB)",
    cpu_stat="p95",
    cpu_max_percent=3.0,
    network_bytes_per_day=5 * MB,
    min_days=7,
)
GCP_IDLE_VM = IdleVmProfile(
    name="gcp_idle_vm",
    source="R-VM-GCP-IDLE [G1]: CPU < 0.03 vCPU for 97 % of the time, received < 2000 B/s and sent "
    "< 1000 B/s for 95 %, 14 days (97th percentile restated as the stricter p99)",
    cpu_stat="p99",
    cpu_max_percent=3.0,
    cpu_per_vcpu=True,
    network_p95_in_bytes_per_hour=2000 * 3600,
    network_p95_out_bytes_per_hour=1000 * 3600,
    min_days=14,
)
CONSERVATIVE_IDLE_VM = IdleVmProfile(
    name="cloudoptima_conservative_idle",
    source="Ours (default): Trusted Advisor's 5 MB/day network bound [T2] with CPU judged on p99 ≤ 5 % "
    "instead of the average, so a VM with rare heavy bursts (nightly batch) is never called idle; "
    "14 days minimum as Cost Explorer / Compute Optimizer [C3][C7]",
    cpu_stat="p99",
    cpu_max_percent=5.0,
    network_bytes_per_day=5 * MB,
    min_days=14,
)


@dataclass(frozen=True)
class RightsizingProfile:
    """Resize to the next smaller size of the family when CPU and memory fit there with headroom.

    Projected utilisation on the smaller size = ``stat × current capacity / target capacity``; it must stay
    ≤ ``100 − headroom``. Memory is required (without it the headroom cannot be checked).
    """

    name: str
    source: str
    cpu_stat: str
    cpu_headroom_percent: float
    memory_stat: str
    memory_headroom_percent: float
    min_days: int


COMPUTE_OPTIMIZER_RIGHTSIZING = RightsizingProfile(
    name="aws_compute_optimizer",
    source="R-EC2-CO-RIGHTSIZE [C3][C5][C6] (default): CPU threshold P99.5 (restated as p99), CPU headroom "
    "20 %, memory headroom 20 %, 14 days of metrics",
    cpu_stat="p99",
    cpu_headroom_percent=20.0,
    memory_stat="p99",
    memory_headroom_percent=20.0,
    min_days=14,
)
AZURE_ADVISOR_RESIZE = RightsizingProfile(
    name="azure_advisor_resize_user_facing",
    source="R-VM-AZ-RESIZE [Z1]: on the new SKU P95 CPU ≤ 40 % and P100 memory ≤ 60 % (user-facing), 7 days",
    cpu_stat="p95",
    cpu_headroom_percent=60.0,
    memory_stat="max",
    memory_headroom_percent=40.0,
    min_days=7,
)


@dataclass(frozen=True)
class IdleDatabaseProfile:
    """A running database no client connects to → stop it (then snapshot and delete it).

    Idle when every hourly connection peak of the window is ≤ ``max_connections`` over ≥ ``min_days`` of
    samples and, when ``cpu_stat`` is set, that CPU statistic is ≤ ``cpu_max_percent``.
    """

    name: str
    source: str
    max_connections: float
    min_days: int
    cpu_stat: str | None = None
    cpu_max_percent: float = 100.0


AWS_TRUSTED_ADVISOR_IDLE_RDS = IdleDatabaseProfile(
    name="aws_trusted_advisor_idle_rds",
    source="R-RDS-TA [T3]: no connection in the last 7 days (restated: the peak of hourly connection counts "
    "is 0 over ≥ 7 days of samples)",
    max_connections=0.0,
    min_days=7,
)
CONSERVATIVE_IDLE_DATABASE = IdleDatabaseProfile(
    name="cloudoptima_conservative_idle_database",
    source="Ours (default): R-RDS-TA [T3] (no connection over ≥ 7 days of samples) and CPU p95 ≤ 10 %, so "
    "an instance working without client connections (replication, jobs scheduled inside the engine) is "
    "never called idle",
    max_connections=0.0,
    min_days=7,
    cpu_stat="p95",
    cpu_max_percent=10.0,
)


@dataclass(frozen=True)
class DatabaseRightsizingProfile:
    """Move a database that clients use to the next smaller class of its family when its CPU fits there.

    Projected CPU = statistic × vCPU now / vCPU of the smaller class; ``cpu_stat`` must project to
    ≤ ``cpu_limit_percent`` and the observed peak to ≤ ``peak_limit_percent``. Memory, when observed
    (``memory_percent``; RDS, Azure SQL and Cloud SQL do not report it as a percentage), must project to
    ≤ ``memory_limit_percent``; otherwise the finding says memory was not observed.
    """

    name: str
    source: str
    cpu_stat: str
    cpu_limit_percent: float
    peak_limit_percent: float
    memory_stat: str
    memory_limit_percent: float
    min_days: int


DATABASE_RIGHTSIZING = DatabaseRightsizingProfile(
    name="database_resize_user_facing",
    source="R-VM-AZ-RESIZE [Z1] user-facing targets applied to database classes: P95 CPU ≤ 40 % and P100 "
    "memory ≤ 60 % on the smaller class; CPU peak ≤ 80 % there (Compute Optimizer's 20 % headroom [C5]); "
    "14 days of metrics as Compute Optimizer [C3]",
    cpu_stat="p95",
    cpu_limit_percent=40.0,
    peak_limit_percent=80.0,
    memory_stat="max",
    memory_limit_percent=60.0,
    min_days=14,
)


@dataclass(frozen=True)
class AgeProfile:
    """A structural finding that must have lasted ``min_days`` (unattached, orphaned, stopped, idle LB)."""

    name: str
    source: str
    min_days: int


STOPPED_VM_30_DAYS = AgeProfile(
    "aws_config_ec2_stopped_instance",
    "R-EC2-STOPPED [T5][S10]: stopped longer than AllowedDays (default 30)",
    30,
)
UNATTACHED_DISK_GCP = AgeProfile(
    "gcp_idle_persistent_disk",
    "R-DISK-GCP [G3] (default): not attached for 15 days; also R-EBS-TA [T3] (unattached, 7 days)",
    15,
)
UNATTACHED_DISK_CUSTODIAN = AgeProfile(
    "custodian_ebs_garbage_collect", "R-EBS-C7N [S5]: unattached, delete after 30 days", 30
)
ORPHANED_SNAPSHOT = AgeProfile(
    "custodian_unused_snapshot",
    "R-SNAP-C7N [S10]: snapshot age ≥ N days and unused (source volume gone); N = 30 as the "
    "Trusted Advisor snapshot-age red line [T4]",
    30,
)
UNASSOCIATED_IP = AgeProfile(
    "aws_trusted_advisor_unassociated_eip",
    "R-EIP-TA [T1][T3]: an allocated address associated with nothing is flagged on first sight (every "
    "public IPv4 address is billed by the hour, used or not)",
    0,
)
UNASSOCIATED_IP_GRACE = AgeProfile(
    "custodian_eip_garbage_collect",
    "R-EIP-C7N [S6]: unassociated, released after a 7-day grace",
    7,
)
IDLE_LOAD_BALANCER = AgeProfile(
    "aws_trusted_advisor_idle_load_balancer",
    "R-ELB-TA [T1]: no active back-end instances or < 100 requests/day over the last 7 days; marked for "
    "deletion after 14 days as R-ELB-C7N [S7]",
    7,
)
LB_MAX_REQUESTS_PER_DAY = 100.0
LB_DELETE_AFTER_DAYS = 14


@dataclass(frozen=True)
class TieringProfile:
    """Move a bucket one class colder when it is big and almost never read."""

    name: str
    source: str
    min_days: int
    min_size_gb: int
    max_requests_per_gb_month: float


STORAGE_TIERING = TieringProfile(
    name="infrequent_access_tiering",
    source="S3 Standard-IA / Azure Cool / GCS Nearline are priced for data read less than about once a "
    "month with a 30-day minimum storage duration; ours: ≥ 30 days of request metrics, ≥ 100 GB, "
    "< 0.1 requests per GB-month",
    min_days=30,
    min_size_gb=100,
    max_requests_per_gb_month=0.1,
)


@dataclass(frozen=True)
class CommitmentProfile:
    """Cover steady 24x7 on-demand VMs with a 1-year no-upfront commitment, grouped per region and family."""

    name: str
    source: str
    steady_days: int
    min_sample_coverage: float
    bursty_max_avg_cpu: float
    bursty_min_p99_cpu: float


COMMITMENT_COVERAGE = CommitmentProfile(
    name="steady_usage_commitment",
    source="R-RI-AZ [Z1-old]: reservation recommendations from 30 days of usage; ours: running 24x7 on the "
    "always schedule for 30+ days, no sizing finding pending (idle, rightsizing, or spiky with average "
    "CPU ≤ 15 % and p99 ≥ 60 %, a burstable/spot candidate), not part of an open cost anomaly",
    steady_days=30,
    min_sample_coverage=0.95,
    bursty_max_avg_cpu=15.0,
    bursty_min_p99_cpu=60.0,
)


@dataclass(frozen=True)
class RuleSettings:
    """The profile chosen for each rule (defaults as documented above) and the exclusion tags."""

    idle_vm: IdleVmProfile = CONSERVATIVE_IDLE_VM
    rightsizing: RightsizingProfile = COMPUTE_OPTIMIZER_RIGHTSIZING
    stopped_vm: AgeProfile = STOPPED_VM_30_DAYS
    unattached_disk: AgeProfile = UNATTACHED_DISK_GCP
    orphaned_snapshot: AgeProfile = ORPHANED_SNAPSHOT
    unassociated_ip: AgeProfile = UNASSOCIATED_IP
    idle_load_balancer: AgeProfile = IDLE_LOAD_BALANCER
    storage_tiering: TieringProfile = STORAGE_TIERING
    commitment: CommitmentProfile = COMMITMENT_COVERAGE
    idle_database: IdleDatabaseProfile = CONSERVATIVE_IDLE_DATABASE
    database_rightsizing: DatabaseRightsizingProfile = DATABASE_RIGHTSIZING
    exclude_tag_keys: tuple[str, ...] = field(
        default=("cloudoptima:ignore", "do-not-optimize", "do-not-optimise", "finops:exclude")
    )
    """Tag keys (case-insensitive) that exclude a resource unless their value is false/no/0/off."""


IDLE_VM_PROFILES = (
    CONSERVATIVE_IDLE_VM,
    AWS_TRUSTED_ADVISOR_LOW_UTILISATION,
    AZURE_ADVISOR_SHUTDOWN,
    GCP_IDLE_VM,
)
RIGHTSIZING_PROFILES = (COMPUTE_OPTIMIZER_RIGHTSIZING, AZURE_ADVISOR_RESIZE)
IDLE_DATABASE_PROFILES = (CONSERVATIVE_IDLE_DATABASE, AWS_TRUSTED_ADVISOR_IDLE_RDS)
