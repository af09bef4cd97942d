"""Regulator profiles: the statutory complaint deadlines a bank answers to, as SLA data.

Each profile is a set of statutory SLA policies carrying the regulator's code. The SLA engine
runs the first active one of each regulator that matches a complaint beside the bank's own
policy, so a complaint has the bank's 24-hour target and the regulator's deadline at once, on
the same case history. Administrators switch profiles on and off and edit them like any other
policy (`/manage/sla/`); a fresh install has the mainland profile on and the others off.

- Mainland China (NFRA, 《银行业保险业消费投诉处理管理办法》): a decision within 15 days of
  receipt; a complex complaint may be extended to 30 and then 60 days, each extension approved
  and told to the complainant. Days are calendar days, the day of receipt not counted, and a
  period ending on a rest day or holiday ends on the next working day (Civil Code art. 203).
- US CFPB: a response within 15 calendar days, a final response within 60.
- UK FCA (DISP 1.6): a final response within 8 weeks; for payment services, 15 business days,
  35 in exceptional circumstances (a holding reply saying why: the extension here).

Used by a data migration (historical models) and by the demo, so it takes the model classes.
Idempotent: a policy that exists (by code) is left as the administrators have it, except that
a profile's payment-services policy gains its categories once the bank has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DAY = 24 * 60
CN_NFRA, US_CFPB, UK_FCA = "cn-nfra", "us-cfpb", "uk-fca"


@dataclass(frozen=True)
class StatutoryTarget:
    name: str
    metric: str
    days: int
    basis: str
    extensions: tuple[int, ...] = ()  # days
    warning_percent: int = 80


@dataclass(frozen=True)
class StatutoryPolicy:
    regulator: str
    code: str
    name: str
    position: int
    active: bool
    targets: tuple[StatutoryTarget, ...]
    category_codes: tuple[str, ...] = ()  # the bank's categories it covers; empty: all


PROFILES: tuple[StatutoryPolicy, ...] = (
    StatutoryPolicy(
        regulator=CN_NFRA,
        code="statutory-cn-nfra",
        name="内地监管投诉时限 Mainland China (NFRA)",
        position=10,
        active=True,
        targets=(
            StatutoryTarget(
                name="监管 15 日处理决定",
                metric="decision",
                days=15,
                basis="days_working_end",
                extensions=(30, 60),
            ),
        ),
    ),
    StatutoryPolicy(
        regulator=US_CFPB,
        code="statutory-us-cfpb",
        name="US CFPB complaint response",
        position=10,
        active=False,
        targets=(
            StatutoryTarget(
                name="CFPB response (15 days)", metric="first_response", days=15, basis="days"
            ),
            StatutoryTarget(
                name="CFPB final response (60 days)", metric="decision", days=60, basis="days"
            ),
        ),
    ),
    StatutoryPolicy(
        regulator=UK_FCA,
        code="statutory-uk-fca-payments",
        name="UK FCA payment services (DISP 1.6.2A)",
        position=10,
        active=False,
        category_codes=("payments",),
        targets=(
            StatutoryTarget(
                name="FCA payment services final response (15 business days)",
                metric="decision",
                days=15,
                basis="working_days",
                extensions=(35,),
            ),
        ),
    ),
    StatutoryPolicy(
        regulator=UK_FCA,
        code="statutory-uk-fca",
        name="UK FCA final response (DISP 1.6.2)",
        position=20,
        active=False,
        targets=(
            StatutoryTarget(
                name="FCA final response (8 weeks)", metric="decision", days=56, basis="days"
            ),
        ),
    ),
)


def regulator_profiles_seed(
    *, policy_model: Any, target_model: Any, category_model: Any, using: str = "default"
) -> int:
    """Add the statutory policies that are missing (by code); returns how many were added."""
    policies = policy_model.objects.using(using)
    categories = category_model.objects.using(using)
    added = 0
    for spec in PROFILES:
        codes = spec.category_codes
        wanted = list(categories.filter(code__in=codes)) if codes else []
        policy = policies.filter(code=spec.code).first()
        if policy is not None:
            if wanted and not policy.categories.exists():
                policy.categories.set(wanted)
            continue
        policy = policies.create(
            code=spec.code,
            name=spec.name,
            position=spec.position,
            # A profile for some categories stays off until the bank has them.
            is_active=spec.active and (not spec.category_codes or bool(wanted)),
            is_complaint=True,
            regulator=spec.regulator,
        )
        policy.categories.set(wanted)
        for target in spec.targets:
            target_model.objects.using(using).create(
                policy=policy,
                name=target.name,
                metric=target.metric,
                minutes=target.days * DAY,
                basis=target.basis,
                warning_percent=target.warning_percent,
                extensions=[days * DAY for days in target.extensions],
            )
        added += 1
    return added
