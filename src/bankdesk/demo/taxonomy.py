"""The demo bank's organisation: its teams, its case taxonomy and its staff.

Seeded once through the services, after which admins may edit all of it; the synthetic case
generator reads the categories back from the database and uses the hints here (weights,
handling profile, team) only for codes it recognises.
"""

from __future__ import annotations

from dataclasses import dataclass

from bankdesk.staff.choices import Role

# Team codes the generator routes by. The complaint team is found by its flag, not its code.
TEAM_GENERAL = "general"
TEAM_CARDS = "cards"
TEAM_DIGITAL = "digital"
TEAM_ENGLISH = "english"
TEAM_COMPLAINTS = "complaints"


@dataclass(frozen=True)
class TeamSpec:
    code: str
    name: str
    is_complaint_team: bool = False


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(TEAM_GENERAL, "综合服务组"),
    TeamSpec(TEAM_CARDS, "信用卡服务组"),
    TeamSpec(TEAM_DIGITAL, "电子银行组"),
    # Serves English-speaking customers and Hong Kong customers (繁體).
    TeamSpec(TEAM_ENGLISH, "英语服务组"),
    TeamSpec(TEAM_COMPLAINTS, "投诉处理组", is_complaint_team=True),
)

# How a kind of matter is usually handled; the generator turns this into a timeline.
PROFILE_ENQUIRY = "enquiry"  # answered in the first contact or soon after
PROFILE_URGENT = "urgent"  # lost cards, fraud: acted on at once
PROFILE_REQUEST = "request"  # needs documents or a back-office step
PROFILE_INVESTIGATION = "investigation"  # disputes and remittances: days to weeks
PROFILE_COMPLAINT = "complaint"  # the regulated complaint process


@dataclass(frozen=True)
class LeafSpec:
    code: str
    name: str
    name_en: str
    weight: float
    profile: str = PROFILE_ENQUIRY


@dataclass(frozen=True)
class GroupSpec:
    code: str
    name: str
    name_en: str
    team: str
    leaves: tuple[LeafSpec, ...]
    is_complaint: bool = False


# fmt: off
L = LeafSpec
TAXONOMY: tuple[GroupSpec, ...] = (
    GroupSpec("accounts", "账户服务", "Accounts", TEAM_GENERAL, (
        L("account-opening", "开户咨询", "Account opening", 3.0),
        L("account-restricted", "账户冻结/止付", "Account frozen or restricted", 2.0,
          PROFILE_REQUEST),
        L("account-statement", "对账单与流水", "Statements and transaction history", 3.5),
        L("account-details-change", "个人信息变更", "Personal details update", 2.5,
          PROFILE_REQUEST),
        L("account-closure", "销户", "Account closure", 1.0, PROFILE_REQUEST),
    )),
    GroupSpec("debit-cards", "借记卡", "Debit cards", TEAM_GENERAL, (
        L("debit-card-lost", "借记卡挂失", "Lost or stolen debit card", 2.5, PROFILE_URGENT),
        L("debit-card-retained", "ATM吞卡", "Card retained by ATM", 1.0, PROFILE_REQUEST),
        L("debit-card-replacement", "换卡/补卡", "Card replacement", 1.5, PROFILE_REQUEST),
        L("debit-card-limits", "借记卡交易限额", "Debit card limits", 2.0),
    )),
    GroupSpec("credit-cards", "信用卡", "Credit cards", TEAM_CARDS, (
        L("credit-card-lost", "信用卡挂失", "Lost or stolen credit card", 2.5, PROFILE_URGENT),
        L("credit-card-dispute", "交易争议", "Transaction dispute", 3.0, PROFILE_INVESTIGATION),
        L("credit-card-limit", "额度调整", "Credit limit", 4.0, PROFILE_REQUEST),
        L("credit-card-bill", "账单与还款", "Statement and repayment", 5.0),
        L("credit-card-instalment", "分期业务", "Instalment plans", 3.0),
        L("credit-card-rewards", "积分与权益", "Points and benefits", 2.0),
        L("credit-card-application", "办卡申请进度", "Card application", 2.5, PROFILE_REQUEST),
    )),
    GroupSpec("loans", "贷款", "Loans and mortgages", TEAM_GENERAL, (
        L("mortgage", "个人住房贷款", "Mortgage", 2.5),
        L("mortgage-prepayment", "提前还款", "Early repayment", 2.0, PROFILE_REQUEST),
        L("loan-rate-repricing", "利率调整（LPR）", "Interest rate repricing (LPR)", 1.5),
        L("consumer-loan", "消费贷款", "Personal loan", 2.0, PROFILE_REQUEST),
        L("business-loan", "经营贷款", "Business loan", 1.0, PROFILE_REQUEST),
    )),
    GroupSpec("digital-banking", "电子银行", "Digital banking", TEAM_DIGITAL, (
        L("app-login", "手机银行登录", "Mobile app login", 6.0),
        L("app-transfer", "转账汇款", "Transfers", 5.0),
        L("online-banking-security", "网银/U盾", "Online banking security key", 1.5),
        L("sms-code", "短信验证码", "SMS verification code", 2.5),
        L("suspected-fraud", "疑似诈骗", "Suspected fraud or scam", 1.5, PROFILE_URGENT),
    )),
    GroupSpec("payments", "支付结算", "Payments", TEAM_GENERAL, (
        L("cross-border-remittance", "跨境汇款", "Cross-border remittance", 1.5,
          PROFILE_INVESTIGATION),
        L("quick-pay", "快捷支付", "Quick pay (WeChat Pay, Alipay)", 3.0),
        L("foreign-exchange", "外汇兑换", "Foreign exchange", 1.0),
        L("payroll", "代发工资", "Payroll", 1.0, PROFILE_REQUEST),
    )),
    GroupSpec("wealth", "理财投资", "Wealth management", TEAM_GENERAL, (
        L("wealth-products", "理财产品", "Wealth products", 2.0),
        L("funds", "基金", "Funds", 1.5),
        L("time-deposits", "定期与大额存单", "Time deposits and certificates", 1.5),
        L("bancassurance", "代理保险", "Bancassurance", 0.8, PROFILE_REQUEST),
    )),
    GroupSpec("fees", "收费", "Fees and charges", TEAM_GENERAL, (
        L("fee-annual", "年费", "Annual fee", 1.5),
        L("fee-account-management", "账户管理费", "Account maintenance fee", 1.0),
        L("fee-transfer", "转账手续费", "Transfer fees", 1.0),
    )),
    GroupSpec("complaints", "投诉", "Complaints", TEAM_COMPLAINTS, (
        L("complaint-service-attitude", "服务态度", "Staff attitude", 1.5, PROFILE_COMPLAINT),
        L("complaint-fees", "收费争议", "Fees and charges dispute", 1.2, PROFILE_COMPLAINT),
        L("complaint-mis-selling", "理财产品销售误导", "Mis-selling of wealth products", 0.6,
          PROFILE_COMPLAINT),
        L("complaint-debt-collection", "催收行为", "Debt collection conduct", 0.8,
          PROFILE_COMPLAINT),
        L("complaint-waiting-time", "排队与等候时间", "Waiting time", 0.8, PROFILE_COMPLAINT),
        L("complaint-privacy", "个人信息保护", "Personal data protection", 0.3,
          PROFILE_COMPLAINT),
        L("complaint-system-outage", "系统故障", "System outage", 0.6, PROFILE_COMPLAINT),
    ), is_complaint=True),
)
del L
# fmt: on

LEAVES: dict[str, tuple[GroupSpec, LeafSpec]] = {
    leaf.code: (group, leaf) for group in TAXONOMY for leaf in group.leaves
}


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str
    display_name: str
    teams: tuple[str, ...] = ()


# The five named logins are what the docs and `bankdesk up` tell people to try.
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("admin", Role.ADMIN, "系统管理员 Admin"),
    StaffSpec(
        "supervisor",
        Role.SUPERVISOR,
        "赵敏 Zhao Min",
        (TEAM_GENERAL, TEAM_CARDS, TEAM_DIGITAL, TEAM_ENGLISH),
    ),
    StaffSpec("agent", Role.AGENT, "李娜 Li Na", (TEAM_GENERAL, TEAM_CARDS)),
    StaffSpec("complaints", Role.COMPLAINT_OFFICER, "周建国 Zhou Jianguo", (TEAM_COMPLAINTS,)),
    StaffSpec("auditor", Role.AUDITOR, "孙丽 Sun Li"),
    StaffSpec("agent01", Role.AGENT, "王芳 Wang Fang", (TEAM_GENERAL,)),
    StaffSpec("agent02", Role.AGENT, "张伟 Zhang Wei", (TEAM_GENERAL,)),
    StaffSpec("agent03", Role.AGENT, "刘洋 Liu Yang", (TEAM_GENERAL,)),
    StaffSpec("agent04", Role.AGENT, "陈静 Chen Jing", (TEAM_GENERAL, TEAM_DIGITAL)),
    StaffSpec("agent05", Role.AGENT, "杨帆 Yang Fan", (TEAM_CARDS,)),
    StaffSpec("agent06", Role.AGENT, "黄婷 Huang Ting", (TEAM_CARDS,)),
    StaffSpec("agent07", Role.AGENT, "吴磊 Wu Lei", (TEAM_DIGITAL,)),
    StaffSpec("agent08", Role.AGENT, "徐慧 Xu Hui", (TEAM_DIGITAL,)),
    StaffSpec("agent09", Role.AGENT, "陳嘉欣 Emily Chan", (TEAM_ENGLISH,)),
    StaffSpec("agent10", Role.AGENT, "梁志偉 Jason Leung", (TEAM_ENGLISH, TEAM_CARDS)),
    StaffSpec("agent11", Role.AGENT, "Oliver Grant", (TEAM_ENGLISH,)),
    StaffSpec("agent12", Role.AGENT, "郑晓雪 Zheng Xiaoxue", (TEAM_GENERAL, TEAM_CARDS)),
    StaffSpec("complaints02", Role.COMPLAINT_OFFICER, "何文涛 He Wentao", (TEAM_COMPLAINTS,)),
    StaffSpec("complaints03", Role.COMPLAINT_OFFICER, "林慧敏 Lin Huimin", (TEAM_COMPLAINTS,)),
)

NAMED_LOGINS: tuple[str, ...] = ("admin", "supervisor", "agent", "complaints", "auditor")
STAFF_EMAIL_DOMAIN = "demo-bank.example"
