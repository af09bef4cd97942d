"""Synthetic customers: who they are, how they reach the bank and what they hold.

Identity values are derived injectively from the customer's id wherever a real system would
guarantee uniqueness (phone numbers, Alipay ids, openids, e-mail addresses), so runs never
collide with each other; clashes with data that was already there are checked per batch.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bankdesk.customers.choices import HoldingKind, HoldingStatus, IdentityKind, Segment, Tier
from bankdesk.demo.names import Name, company_name, person_name
from bankdesk.lib.channels import Channel

_YEAR = 365 * 86_400
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"

LANGUAGE_WEIGHTS = {"zh-hans": 80, "zh-hant": 12, "en": 8}
SEGMENT_WEIGHTS = {
    Segment.RETAIL: 88,
    Segment.SMALL_BUSINESS: 7,
    Segment.PRIVATE_BANKING: 3,
    Segment.CORPORATE: 2,
}
TIER_WEIGHTS: dict[str, dict[str, float]] = {
    Segment.RETAIL: {Tier.STANDARD: 70, Tier.GOLD: 20, Tier.PLATINUM: 8, Tier.DIAMOND: 2},
    Segment.SMALL_BUSINESS: {Tier.STANDARD: 50, Tier.GOLD: 35, Tier.PLATINUM: 15},
    Segment.PRIVATE_BANKING: {Tier.PLATINUM: 40, Tier.DIAMOND: 60},
    Segment.CORPORATE: {Tier.GOLD: 40, Tier.PLATINUM: 40, Tier.DIAMOND: 20},
}
PREFERRED_CHANNEL_WEIGHTS: dict[str, dict[str, float]] = {
    "zh-hans": {
        Channel.WECHAT: 35,
        Channel.APP: 30,
        Channel.PHONE: 20,
        Channel.WEB_CHAT: 5,
        Channel.BRANCH: 5,
        "": 5,
    },
    "zh-hant": {Channel.APP: 40, Channel.PHONE: 30, Channel.WEB_CHAT: 15, Channel.EMAIL: 10, "": 5},
    "en": {Channel.EMAIL: 35, Channel.WEB_CHAT: 25, Channel.APP: 20, Channel.PHONE: 15, "": 5},
}
MAINLAND_MOBILE_PREFIXES = (
    "138",
    "139",
    "137",
    "136",
    "135",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
    "130",
    "131",
    "132",
    "155",
    "156",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "199",
    "198",
    "191",
    "173",
    "133",
    "153",
)
HK_MOBILE_FIRST_DIGITS = ("5", "6", "9")
# Resident ID area codes (district level) of the cities the demo bank serves.
ID_AREAS = (
    "110101",
    "110105",
    "310101",
    "310115",
    "440106",
    "440305",
    "330106",
    "510107",
    "420106",
    "320102",
    "500103",
    "610113",
    "120101",
    "330203",
    "350203",
    "370202",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

ACCOUNT_PRODUCTS = {
    "zh-hans": ("个人结算账户", "储蓄账户", "外币储蓄账户"),
    "zh-hant": ("儲蓄帳戶", "往來帳戶", "綜合理財帳戶"),
    "en": ("Savings account", "Current account", "Integrated account"),
}
BUSINESS_ACCOUNT_PRODUCTS = {
    "zh-hans": ("对公基本存款账户", "一般存款账户"),
    "zh-hant": ("商業往來帳戶", "商業儲蓄帳戶"),
    "en": ("Business current account", "Business savings account"),
}
DEBIT_CARD_PRODUCT = {"zh-hans": "借记卡", "zh-hant": "提款卡", "en": "Debit card"}
CREDIT_CARD_PRODUCTS: dict[str, dict[str, str]] = {
    "zh-hans": {
        Tier.STANDARD: "标准信用卡",
        Tier.GOLD: "金卡信用卡",
        Tier.PLATINUM: "白金信用卡",
        Tier.DIAMOND: "钻石信用卡",
    },
    "zh-hant": {
        Tier.STANDARD: "標準信用卡",
        Tier.GOLD: "金卡",
        Tier.PLATINUM: "白金卡",
        Tier.DIAMOND: "鑽石卡",
    },
    "en": {
        Tier.STANDARD: "Classic credit card",
        Tier.GOLD: "Gold credit card",
        Tier.PLATINUM: "Platinum credit card",
        Tier.DIAMOND: "Signature credit card",
    },
}
MORTGAGE_PRODUCT = {"zh-hans": "个人住房贷款", "zh-hant": "住宅按揭", "en": "Home mortgage"}
PERSONAL_LOAN_PRODUCT = {"zh-hans": "个人消费贷款", "zh-hant": "私人貸款", "en": "Personal loan"}
BUSINESS_LOAN_PRODUCT = {
    "zh-hans": "小微企业经营贷款",
    "zh-hant": "中小企營運貸款",
    "en": "Business working-capital loan",
}
REFERENCE_PREFIX: dict[str, str] = {
    HoldingKind.ACCOUNT: "ACC",
    HoldingKind.CARD: "CRD",
    HoldingKind.LOAN: "LN",
}

# Share of holdings already closed: old cards replaced, loans paid off.
CLOSED_SHARE: dict[str, float] = {
    HoldingKind.ACCOUNT: 0.03,
    HoldingKind.CARD: 0.04,
    HoldingKind.LOAN: 0.1,
}


def _cum(weights: Mapping[str, float]) -> tuple[list[str], list[float]]:
    return list(weights), list(itertools.accumulate(weights.values()))


def cn_id_check_character(first17: str) -> str:
    """The check character of a mainland resident ID (GB 11643)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11]


@dataclass(frozen=True)
class CustomerProfile:
    """What the case generator needs to know about a customer."""

    id: int
    language: str
    segment: str
    tier: str
    preferred_channel: str
    card_last4: str
    account_last4: str


@dataclass
class CustomerBatch:
    customers: list[tuple[object, ...]] = field(default_factory=list)
    identities: list[tuple[object, ...]] = field(default_factory=list)
    holdings: list[tuple[object, ...]] = field(default_factory=list)
    profiles: list[CustomerProfile] = field(default_factory=list)


# Column order of the rows built here; synthetic.py maps them to the models' columns.
CUSTOMER_FIELDS = (
    "id",
    "customer_number",
    "name",
    "segment",
    "tier",
    "preferred_language",
    "preferred_channel",
    "is_provisional",
    "created_at",
    "updated_at",
    # Filled in later, with the rest of the profile (demo/personal.py).
    "dialect",
    "accessibility",
)
IDENTITY_FIELDS = ("id", "customer", "kind", "value", "lookup", "is_verified", "created_at")
HOLDING_FIELDS = (
    "id",
    "customer",
    "kind",
    "product",
    "reference",
    "reference_lookup",
    "last4",
    "status",
    "opened_on",
)

# taken(what, kind, values) -> those of `values` the database already holds, where `what` is
# "customer_number", "holding" (reference blind indexes of that kind) or "identity" (identity
# blind indexes of that kind).
TakenCheck = Callable[[str, str, list[str]], set[str]]
# index(kind, canonical value) -> the keyed blind index the services store it under.
BlindIndex = Callable[[str, str], str]


class CustomerFactory:
    """Builds customers batch by batch, with ids continuing from `first_*_id`."""

    def __init__(
        self,
        rng: random.Random,
        *,
        now: int,
        format_time: Callable[[int], str],
        format_day: Callable[[int], str],
        identity_index: BlindIndex,
        reference_index: BlindIndex,
        first_customer_id: int,
        first_identity_id: int,
        first_holding_id: int,
    ) -> None:
        self.rng = rng
        self.now = now
        self.format_time = format_time
        self.format_day = format_day
        self.identity_index = identity_index
        self.reference_index = reference_index
        self.next_customer_id = first_customer_id
        self.next_identity_id = first_identity_id
        self.next_holding_id = first_holding_id
        self._languages = _cum(LANGUAGE_WEIGHTS)
        self._segments = _cum({str(k): v for k, v in SEGMENT_WEIGHTS.items()})
        self._tiers = {segment: _cum(weights) for segment, weights in TIER_WEIGHTS.items()}
        self._channels = {
            lang: _cum(weights) for lang, weights in PREFERRED_CHANNEL_WEIGHTS.items()
        }
        self._national_ids: set[str] = set()

    def _pick(self, table: tuple[list[str], list[float]]) -> str:
        return self.rng.choices(table[0], cum_weights=table[1])[0]

    # --- identities ---------------------------------------------------------------------------

    @staticmethod
    def _phone(customer_id: int, language: str, attempt: int) -> str:
        """A mobile number in E.164, unique to the customer id (mainland or Hong Kong)."""
        in_hong_kong = language == "zh-hant" or (language == "en" and customer_id % 2 == 0)
        if in_hong_kong:
            first = HK_MOBILE_FIRST_DIGITS[(customer_id + attempt) % len(HK_MOBILE_FIRST_DIGITS)]
            return f"+852{first}{(customer_id * 7919 + 4321) % 10**7:07d}"
        prefix = MAINLAND_MOBILE_PREFIXES[
            (customer_id * 31 + attempt) % len(MAINLAND_MOBILE_PREFIXES)
        ]
        return f"+86{prefix}{(customer_id * 48271 + 12345) % 10**8:08d}"

    def _national_id(self, name: Name, birth: int) -> str:
        rng = self.rng
        while True:
            # The 17th digit is odd for men and even for women.
            sex_digit = rng.choice((0, 2, 4, 6, 8) if name.is_female else (1, 3, 5, 7, 9))
            sequence = rng.randrange(100) * 10 + sex_digit
            birthday = self.format_day(birth).replace("-", "")
            first17 = f"{rng.choice(ID_AREAS)}{birthday}{sequence:03d}"
            value = first17 + cn_id_check_character(first17)
            if value not in self._national_ids:
                self._national_ids.add(value)
                return value

    def _identities(
        self, customer_id: int, language: str, name: Name
    ) -> list[tuple[str, str, bool]]:
        """(kind, canonical value, is_verified) for one customer; the phone always comes first.

        Values are in the canonical form `identity_lookup` gives, as the services store them.
        """
        rng = self.rng
        found = [
            (IdentityKind.PHONE.value, self._phone(customer_id, language, 0), rng.random() < 0.9)
        ]
        email_share = 0.9 if name.is_company else (0.85 if language == "en" else 0.55)
        if rng.random() < email_share:
            local = f"{name.handle}{customer_id}"
            address = f"{local}@{rng.choice(EMAIL_DOMAINS)}".lower()
            found.append((IdentityKind.EMAIL.value, address, rng.random() < 0.5))
        if language == "zh-hans":
            wechat_share, alipay_share = 0.45, 0.25
        else:
            wechat_share, alipay_share = (0.1, 0.03) if language == "zh-hant" else (0.05, 0.01)
        if name.is_company:
            wechat_share, alipay_share = wechat_share / 3, 0.0
        if rng.random() < wechat_share:
            tail = "".join(_BASE64URL[(customer_id >> (6 * i)) & 63] for i in range(8))
            openid = "o" + "".join(rng.choice(_BASE64URL) for _ in range(19)) + tail
            found.append((IdentityKind.WECHAT_OPENID.value, openid, True))
        if rng.random() < alipay_share:
            alipay = f"2088{(customer_id * 982_451_653 + 2349) % 10**12:012d}"
            found.append((IdentityKind.ALIPAY_USER_ID.value, alipay, True))
        if language == "zh-hans" and not name.is_company and rng.random() < 0.4:
            birth = self.now - rng.randrange(18 * 365, 80 * 365) * 86_400
            id_number = self._national_id(name, birth)
            found.append((IdentityKind.NATIONAL_ID.value, id_number, True))
        return found

    # --- holdings -----------------------------------------------------------------------------

    def _holdings(
        self, segment: str, tier: str, language: str, is_company: bool
    ) -> list[tuple[str, str]]:
        """(kind, product) for one customer: always an account, cards and loans by profile."""
        rng = self.rng
        accounts = BUSINESS_ACCOUNT_PRODUCTS[language] if is_company else ACCOUNT_PRODUCTS[language]
        found = [(HoldingKind.ACCOUNT.value, accounts[0])]
        if rng.random() < 0.25:
            found.append((HoldingKind.ACCOUNT.value, rng.choice(accounts[1:])))
        if not is_company and rng.random() < 0.7:
            found.append((HoldingKind.CARD.value, DEBIT_CARD_PRODUCT[language]))
        if rng.random() < (0.25 if is_company else 0.45):
            found.append((HoldingKind.CARD.value, CREDIT_CARD_PRODUCTS[language][tier]))
        if is_company or segment == Segment.SMALL_BUSINESS:
            if rng.random() < 0.5:
                found.append((HoldingKind.LOAN.value, BUSINESS_LOAN_PRODUCT[language]))
        else:
            if rng.random() < 0.18:
                found.append((HoldingKind.LOAN.value, MORTGAGE_PRODUCT[language]))
            if rng.random() < 0.08:
                found.append((HoldingKind.LOAN.value, PERSONAL_LOAN_PRODUCT[language]))
        return found

    def _holding_status(self, kind: str) -> str:
        roll = self.rng.random()
        closed = CLOSED_SHARE[kind]
        if roll < closed:
            return HoldingStatus.CLOSED.value
        if roll < closed + 0.01:
            return HoldingStatus.FROZEN.value
        return HoldingStatus.ACTIVE.value

    # --- customers ----------------------------------------------------------------------------

    def batch(self, count: int, taken: TakenCheck) -> CustomerBatch:
        """`count` new customers with identities and holdings, clear of what `taken` reports."""
        rng = self.rng
        out = CustomerBatch()
        pending_identities: list[tuple[int, str, str, bool, str, str]] = []
        for _ in range(count):
            customer_id = self.next_customer_id
            self.next_customer_id += 1
            language = self._pick(self._languages)
            segment = self._pick(self._segments)
            tier = self._pick(self._tiers[segment])
            is_company = segment == Segment.CORPORATE or (
                segment == Segment.SMALL_BUSINESS and rng.random() < 0.6
            )
            name = company_name(rng, language) if is_company else person_name(rng, language)
            channel = self._pick(self._channels[language])
            # Customers joined before the year of cases, so every case follows their record.
            joined = self.now - _YEAR - 86_400 - rng.randrange(5 * _YEAR)
            created = self.format_time(joined)
            number = f"6{(customer_id * 7_654_321 + 13_579) % 10**9:09d}"
            out.customers.append(
                (
                    customer_id,
                    number,
                    name.full,
                    segment,
                    tier,
                    language,
                    channel,
                    False,
                    created,
                    created,
                    "",
                    "",
                )
            )
            for kind, value, verified in self._identities(customer_id, language, name):
                pending_identities.append((customer_id, kind, value, verified, created, language))
            card_last4 = account_last4 = ""
            for kind, product in self._holdings(segment, tier, language, is_company):
                holding_id = self.next_holding_id
                self.next_holding_id += 1
                last4 = f"{rng.randrange(10_000):04d}"
                code = (holding_id * 2_654_435_761 + 1) % 10**10
                reference = f"{REFERENCE_PREFIX[kind]}-{code:010d}"
                opened = joined - rng.randrange(10 * _YEAR)
                out.holdings.append(
                    (
                        holding_id,
                        customer_id,
                        kind,
                        product,
                        reference,
                        self.reference_index(kind, reference),
                        last4,
                        self._holding_status(kind),
                        self.format_day(opened),
                    )
                )
                if kind == HoldingKind.CARD and (not card_last4 or rng.random() < 0.5):
                    card_last4 = last4
                elif kind == HoldingKind.ACCOUNT and not account_last4:
                    account_last4 = last4
            out.profiles.append(
                CustomerProfile(
                    id=customer_id,
                    language=language,
                    segment=segment,
                    tier=tier,
                    preferred_channel=channel,
                    card_last4=card_last4,
                    account_last4=account_last4 or card_last4,
                )
            )
        self._clear_clashes(out, pending_identities, taken)
        return out

    def _clear_clashes(
        self,
        out: CustomerBatch,
        pending: list[tuple[int, str, str, bool, str, str]],
        taken: TakenCheck,
    ) -> None:
        """Drop or re-draw anything that already exists: customer numbers, identities, refs."""
        numbers = taken("customer_number", "", [str(row[1]) for row in out.customers])
        if numbers:
            out.customers = [
                (row[0], f"D{row[0]:011d}", *row[2:]) if row[1] in numbers else row
                for row in out.customers
            ]
        clashes: set[tuple[object, object]] = set()
        for kind in {row[2] for row in out.holdings}:
            indexes = [str(row[5]) for row in out.holdings if row[2] == kind]
            clashes.update((kind, index) for index in taken("holding", str(kind), indexes))
        if clashes:
            out.holdings = [
                self._redrawn_holding(row) if (row[2], row[5]) in clashes else row
                for row in out.holdings
            ]
        indexed = [(*row, self.identity_index(row[1], row[2])) for row in pending]
        by_kind: dict[str, set[str]] = {}
        for kind in {row[1] for row in pending}:
            by_kind[kind] = taken("identity", kind, [row[6] for row in indexed if row[1] == kind])
        for customer_id, kind, value, verified, created, language, lookup in indexed:
            if lookup in by_kind[kind]:
                if kind != IdentityKind.PHONE:
                    continue  # someone else's; this customer simply has no such identity
                value, lookup = self._free_phone(customer_id, language, taken)
            out.identities.append(
                (self.next_identity_id, customer_id, kind, value, lookup, verified, created)
            )
            self.next_identity_id += 1

    def _redrawn_holding(self, row: tuple[object, ...]) -> tuple[object, ...]:
        kind, reference = str(row[2]), f"{row[4]}-D"
        return (*row[:4], reference, self.reference_index(kind, reference), *row[6:])

    def _free_phone(self, customer_id: int, language: str, taken: TakenCheck) -> tuple[str, str]:
        kind = IdentityKind.PHONE.value
        for attempt in range(1, 40):
            value = self._phone(customer_id, language, attempt)
            lookup = self.identity_index(kind, value)
            if not taken("identity", kind, [lookup]):
                return value, lookup
        raise RuntimeError(f"no free phone number for demo customer {customer_id}")
