"""The complaint taxonomy a fresh install starts with: products, issues and causes, in the
spirit of the financial industry's complaint classification standard (JR/T 0169), written for
bankdesk. The bank edits it afterwards; seeding again adds what is missing, changes nothing."""

from __future__ import annotations

from typing import Any

# (kind, code, 中文, English, parent code or "")
TAXONOMY: tuple[tuple[str, str, str, str, str], ...] = (
    ("product", "deposits", "存款与账户", "Deposits and accounts", ""),
    (
        "product",
        "deposits-current",
        "活期与借记卡账户",
        "Current and debit card accounts",
        "deposits",
    ),
    ("product", "deposits-time", "定期存款", "Time deposits", "deposits"),
    ("product", "cards", "银行卡", "Cards", ""),
    ("product", "cards-credit", "信用卡", "Credit cards", "cards"),
    ("product", "cards-debit", "借记卡", "Debit cards", "cards"),
    ("product", "loans", "贷款", "Loans", ""),
    ("product", "loans-mortgage", "个人住房贷款", "Mortgages", "loans"),
    ("product", "loans-consumer", "个人消费贷款", "Consumer loans", "loans"),
    ("product", "loans-business", "经营性贷款", "Business loans", "loans"),
    ("product", "wealth", "理财与代销", "Wealth management and products sold for others", ""),
    ("product", "wealth-own", "本行理财产品", "The bank's wealth products", "wealth"),
    ("product", "wealth-insurance", "代销保险", "Insurance sold for insurers", "wealth"),
    ("product", "wealth-funds", "代销基金", "Funds sold for fund houses", "wealth"),
    ("product", "payments", "支付结算", "Payments and transfers", ""),
    ("product", "payments-transfer", "转账汇款", "Transfers and remittances", "payments"),
    (
        "product",
        "payments-foreign",
        "外汇与跨境汇款",
        "Foreign exchange and cross-border payments",
        "payments",
    ),
    ("product", "digital", "电子银行", "Digital banking", ""),
    ("product", "digital-app", "手机银行", "Mobile banking app", "digital"),
    ("product", "digital-web", "网上银行", "Internet banking", "digital"),
    ("product", "service", "网点与客服服务", "Branch and service-centre service", ""),
    ("issue", "fees", "收费与价格", "Fees and pricing", ""),
    (
        "issue",
        "fees-unexpected",
        "未告知或重复收费",
        "Charges not disclosed or taken twice",
        "fees",
    ),
    ("issue", "fees-interest", "利息与罚息", "Interest and penalty interest", "fees"),
    ("issue", "selling", "营销与销售行为", "Marketing and selling", ""),
    ("issue", "selling-misleading", "误导销售", "Misleading sale", "selling"),
    ("issue", "selling-suitability", "适当性不符", "Unsuitable product", "selling"),
    ("issue", "disclosure", "信息披露", "Information and disclosure", ""),
    ("issue", "transactions", "交易与资金", "Transactions and funds", ""),
    (
        "issue",
        "transactions-failed",
        "交易失败或延迟",
        "Failed or delayed transaction",
        "transactions",
    ),
    (
        "issue",
        "transactions-unauthorised",
        "非本人交易",
        "Unauthorised transaction",
        "transactions",
    ),
    ("issue", "collection", "催收行为", "Debt collection conduct", ""),
    ("issue", "credit-report", "征信与信用记录", "Credit reporting", ""),
    ("issue", "privacy", "个人信息保护", "Personal data protection", ""),
    ("issue", "service-quality", "服务质量与态度", "Service quality and attitude", ""),
    ("issue", "waiting", "等候与处理时效", "Waiting and handling time", ""),
    ("issue", "systems", "系统故障", "System failure", ""),
    ("cause", "process", "制度与流程", "Policy and process", ""),
    ("cause", "staff-conduct", "人员操作与行为", "Staff handling and conduct", ""),
    ("cause", "systems", "系统与技术", "Systems and technology", ""),
    ("cause", "product-design", "产品设计与定价", "Product design and pricing", ""),
    ("cause", "third-party", "合作机构与第三方", "Partners and third parties", ""),
    ("cause", "expectation", "客户理解与期望差异", "Customer understanding and expectations", ""),
)


def taxonomy_seed(model: Any, using: str = "default") -> int:
    """Add the nodes not there yet (by code, `<kind>-<code>`) to database `using`; returns how
    many were added."""
    added = 0
    nodes = model.objects.using(using)
    by_code = {node.code: node for node in nodes.all()}
    for kind, code, name, name_en, parent in TAXONOMY:
        code = f"{kind}-{code}"  # unique across the kinds: an issue and a cause may share a word
        if code in by_code:
            continue
        parent_code = f"{kind}-{parent}" if parent else ""
        node = nodes.create(
            kind=kind, code=code, name=name, name_en=name_en, parent=by_code.get(parent_code)
        )
        by_code[code] = node
        added += 1
    return added
