"""What demo customers and staff write: case subjects per category and the usual replies.

Every text comes in the three languages customers use: simplified Chinese for the mainland,
traditional Chinese with Hong Kong wording (按揭, 月結單, 櫃員機) and English. Placeholders:
{last4} (the customer's card or account), {amount} (a sum of money), {days} (working days).
"""

from __future__ import annotations

from typing import NamedTuple

LANGUAGES = ("zh-hans", "zh-hant", "en")


class Phrases(NamedTuple):
    """The same things said in each language, indexed like LANGUAGES."""

    zh_hans: tuple[str, ...]
    zh_hant: tuple[str, ...]
    en: tuple[str, ...]

    def for_language(self, language: str) -> tuple[str, ...]:
        if language == "zh-hant":
            return self.zh_hant
        if language == "en":
            return self.en
        return self.zh_hans


P = Phrases
SUBJECTS: dict[str, Phrases] = {
    "account-opening": P(
        ("想咨询个人账户开户需要哪些材料", "线上开立二类账户失败"),
        ("想查詢開立個人帳戶需要甚麼文件", "網上開戶申請未能完成"),
        ("What documents do I need to open an account?", "Online account opening failed"),
    ),
    "account-restricted": P(
        ("尾号{last4}的账户被冻结，无法转账", "账户被止付，请问原因"),
        ("尾號{last4}的帳戶被凍結，無法轉賬", "帳戶被暫停交易，想了解原因"),
        (
            "Account ending {last4} is frozen and I cannot transfer",
            "Why has my account been restricted?",
        ),
    ),
    "account-statement": P(
        ("需要打印近一年的银行流水", "对账单上有一笔不认识的交易"),
        ("需要過去一年的銀行月結單", "月結單上有一筆不明交易"),
        ("I need statements for the past 12 months", "Unrecognised entry on my statement"),
    ),
    "account-details-change": P(
        ("更换预留手机号码", "身份证到期，需要更新证件信息"),
        ("更改登記手提電話號碼", "更新住址及身份證明文件"),
        ("Change my registered mobile number", "Update my address and ID document"),
    ),
    "account-closure": P(
        ("申请注销尾号{last4}的账户", "销户后余额如何处理"),
        ("申請取消尾號{last4}的帳戶", "銷戶後結餘如何處理"),
        ("Close my account ending {last4}", "What happens to my balance when I close the account?"),
    ),
    "debit-card-lost": P(
        ("借记卡丢失，申请紧急挂失", "尾号{last4}的银行卡被盗刷"),
        ("提款卡遺失，需要緊急掛失", "尾號{last4}的提款卡被盜用"),
        ("Lost my debit card, please block it", "Debit card ending {last4} was stolen"),
    ),
    "debit-card-retained": P(
        ("ATM吞卡，请问如何取回", "取款时银行卡被自助设备吞了"),
        ("自動櫃員機吞卡，如何取回", "提款時卡被櫃員機留下"),
        ("The ATM kept my card", "Card retained by the cash machine"),
    ),
    "debit-card-replacement": P(
        ("银行卡磁条损坏，申请换卡", "补办借记卡需要多久"),
        ("卡片損壞，申請換卡", "補領提款卡需時多久"),
        ("My card is damaged and I need a replacement", "How long does a replacement card take?"),
    ),
    "debit-card-limits": P(
        ("借记卡单日消费限额太低", "调整ATM取款限额"),
        ("提款卡每日消費限額太低", "調整櫃員機提款限額"),
        ("Daily spending limit on my debit card is too low", "Change my ATM withdrawal limit"),
    ),
    "credit-card-lost": P(
        ("信用卡丢失，申请挂失", "尾号{last4}的信用卡有陌生消费，疑似被盗刷"),
        ("信用卡遺失，申請掛失", "尾號{last4}的信用卡有不明簽賬"),
        ("Lost my credit card", "Unknown charges on my credit card ending {last4}"),
    ),
    "credit-card-dispute": P(
        ("一笔{amount}元的消费未收到商品，申请拒付", "同一笔交易被重复扣款"),
        ("一筆{amount}元的簽賬未收到貨品，申請退款", "同一筆交易被重複扣款"),
        ("Charged {amount} for goods I never received", "Charged twice for the same purchase"),
    ),
    "credit-card-limit": P(
        ("申请提高信用卡额度", "临时额度到期后能否延长"),
        ("申請提高信用卡信用額", "臨時信用額可否延長"),
        ("Please raise my credit limit", "Can my temporary credit limit be extended?"),
    ),
    "credit-card-bill": P(
        ("本期账单金额与消费不符", "还款后账单仍显示未还清"),
        ("今期月結單金額與簽賬不符", "已還款但月結單仍顯示未清還"),
        ("This month's statement amount looks wrong", "Paid, but the bill still shows as due"),
    ),
    "credit-card-instalment": P(
        ("账单分期手续费怎么计算", "申请提前结清分期"),
        ("分期付款手續費如何計算", "申請提早清還分期"),
        ("How are instalment fees calculated?", "Settle my instalment plan early"),
    ),
    "credit-card-rewards": P(
        ("积分没有到账", "机场贵宾厅权益无法使用"),
        ("積分未有入賬", "機場貴賓室優惠未能使用"),
        ("Reward points not credited", "Airport lounge benefit not working"),
    ),
    "credit-card-application": P(
        ("信用卡申请进度查询", "信用卡申请被拒，想了解原因"),
        ("查詢信用卡申請進度", "信用卡申請被拒，想了解原因"),
        ("Status of my credit card application", "Why was my card application declined?"),
    ),
    "mortgage": P(
        ("房贷月供扣款失败", "申请房贷还款明细"),
        ("按揭供款扣賬失敗", "申請按揭還款紀錄"),
        ("Mortgage instalment payment failed", "Please send my mortgage repayment schedule"),
    ),
    "mortgage-prepayment": P(
        ("申请提前偿还部分房贷", "提前还款需要预约吗"),
        ("申請提早償還部分按揭", "提早還款需要預約嗎"),
        ("Partial early repayment of my mortgage", "Do I need an appointment to repay early?"),
    ),
    "loan-rate-repricing": P(
        ("LPR调整后月供为什么没变", "存量房贷利率调整咨询"),
        ("息口調整後供款為何不變", "現有按揭利率調整查詢"),
        (
            "Why didn't my repayment change after the rate cut?",
            "Repricing my existing mortgage rate",
        ),
    ),
    "consumer-loan": P(
        ("消费贷款审批进度", "消费贷款提前还款违约金"),
        ("私人貸款審批進度", "私人貸款提早還款罰息"),
        ("Personal loan approval status", "Early repayment charge on my personal loan"),
    ),
    "business-loan": P(
        ("经营贷款续贷材料", "小微企业贷款申请咨询"),
        ("營商貸款續期文件", "中小企貸款申請查詢"),
        ("Renewing our business loan", "Small business loan application"),
    ),
    "app-login": P(
        ("手机银行登录提示密码错误", "换手机后手机银行无法登录"),
        ("手機銀行登入顯示密碼錯誤", "換手機後無法登入手機銀行"),
        ("The app says my password is wrong", "Cannot log in to the app on my new phone"),
    ),
    "app-transfer": P(
        ("转账{amount}元显示成功但对方未收到", "跨行转账被退回"),
        ("轉賬{amount}元顯示成功但對方未收到", "轉數快轉賬被退回"),
        ("Transfer of {amount} shows as sent but never arrived", "Interbank transfer returned"),
    ),
    "online-banking-security": P(
        ("U盾证书过期", "网银U盾密码锁定"),
        ("網上銀行保安編碼器失效", "網上銀行密碼被鎖"),
        ("Security key certificate expired", "Online banking security key locked"),
    ),
    "sms-code": P(
        ("收不到短信验证码", "验证码发送到旧手机号"),
        ("收不到短訊驗證碼", "驗證碼傳送到舊電話號碼"),
        ("Not receiving SMS verification codes", "Codes go to my old phone number"),
    ),
    "suspected-fraud": P(
        ("接到冒充银行客服的诈骗电话", "疑似被骗转账{amount}元，请求紧急止付"),
        ("接到冒充銀行職員的詐騙電話", "懷疑被騙轉賬{amount}元，要求緊急止付"),
        (
            "Scam call from someone pretending to be the bank",
            "I may have been tricked into sending {amount}, please stop it",
        ),
    ),
    "cross-border-remittance": P(
        ("境外汇款{amount}美元迟迟未到账", "汇款被中转行扣费"),
        ("海外匯款{amount}美元仍未到賬", "匯款被代理銀行扣費"),
        (
            "Overseas remittance of USD {amount} has not arrived",
            "Intermediary bank took fees from my remittance",
        ),
    ),
    "quick-pay": P(
        ("微信支付绑卡失败", "支付宝快捷支付扣款异常"),
        ("綁定電子錢包失敗", "電子錢包扣款異常"),
        ("Cannot link my card to WeChat Pay", "Unexpected Alipay quick-pay deduction"),
    ),
    "foreign-exchange": P(
        ("个人购汇额度查询", "外币兑换汇率咨询"),
        ("人民幣兌換限額查詢", "外幣兌換匯率查詢"),
        ("My annual foreign exchange quota", "Exchange rate for foreign currency"),
    ),
    "payroll": P(
        ("本月代发工资未到账", "企业代发工资业务办理"),
        ("本月薪金未入賬", "公司代發薪金服務申請"),
        ("This month's salary has not been credited", "Set up payroll for our company"),
    ),
    "wealth-products": P(
        ("理财产品到期未回款", "理财产品收益低于预期"),
        ("投資產品到期未收到款項", "投資產品回報低於預期"),
        ("Matured wealth product not paid out", "Wealth product returned less than expected"),
    ),
    "funds": P(
        ("基金赎回款未到账", "基金定投扣款失败"),
        ("基金贖回款項未到賬", "基金月供扣款失敗"),
        ("Fund redemption not received", "Monthly fund investment debit failed"),
    ),
    "time-deposits": P(
        ("大额存单提前支取利息怎么算", "定期存款到期自动转存"),
        ("定期存款提早提取的利息計算", "定期存款到期自動續期"),
        ("Interest if I withdraw my deposit early", "Auto-renewal of my time deposit"),
    ),
    "bancassurance": P(
        ("退保手续咨询", "在网点购买的保险保单查询"),
        ("退保手續查詢", "於分行購買的保單查詢"),
        ("How do I surrender my policy?", "Question about a policy bought at the branch"),
    ),
    "fee-annual": P(
        ("信用卡年费能否减免", "被扣了{amount}元年费"),
        ("信用卡年費可否豁免", "被收取{amount}元年費"),
        ("Can the annual fee be waived?", "Charged an annual fee of {amount}"),
    ),
    "fee-account-management": P(
        ("账户被收取小额账户管理费", "账户管理费如何取消"),
        ("帳戶被收取低結餘服務費", "如何取消帳戶服務費"),
        ("Charged a low-balance account fee", "How do I stop the account maintenance fee?"),
    ),
    "fee-transfer": P(
        ("跨行转账手续费标准", "手机银行转账为什么收费"),
        ("跨行轉賬手續費", "手機銀行轉賬為何收費"),
        ("Interbank transfer fees", "Why was I charged for a transfer in the app?"),
    ),
    "complaint-service-attitude": P(
        ("投诉网点柜员服务态度差", "客服电话中专员态度恶劣"),
        ("投訴分行職員服務態度差", "客服熱線職員態度惡劣"),
        ("Complaint about rude branch staff", "Unprofessional agent on the hotline"),
    ),
    "complaint-fees": P(
        ("投诉未经同意扣收{amount}元费用", "对收费不认可，要求退还"),
        ("投訴未經同意收取{amount}元費用", "不認同收費，要求退還"),
        (
            "A fee of {amount} was taken without my consent",
            "I dispute these fees and want a refund",
        ),
    ),
    "complaint-mis-selling": P(
        ("理财经理未告知产品风险", "被误导购买了高风险理财产品"),
        ("客戶經理未有披露產品風險", "被誤導購買高風險投資產品"),
        (
            "My relationship manager did not explain the risks",
            "I was mis-sold a high-risk investment product",
        ),
    ),
    "complaint-debt-collection": P(
        ("催收人员频繁骚扰家人", "催收电话态度恶劣"),
        ("追收欠款人員滋擾家人", "追收欠款電話態度惡劣"),
        ("Debt collectors keep calling my family", "Abusive debt collection calls"),
    ),
    "complaint-waiting-time": P(
        ("网点排队等候超过一小时", "客服热线长时间无人接听"),
        ("分行輪候超過一小時", "客服熱線長時間無人接聽"),
        ("Waited over an hour at the branch", "Nobody answers the hotline"),
    ),
    "complaint-privacy": P(
        ("个人信息疑似被泄露", "未经同意收到营销短信"),
        ("懷疑個人資料外洩", "未經同意收到推廣短訊"),
        ("My personal data may have been leaked", "Marketing messages without my consent"),
    ),
    "complaint-system-outage": P(
        ("手机银行故障导致还款逾期", "系统故障造成转账失败"),
        ("手機銀行故障導致還款逾期", "系統故障令轉賬失敗"),
        ("An app outage made my repayment late", "A system fault made my transfer fail"),
    ),
}

# For categories an admin added later: name the category itself.
FALLBACK_SUBJECT = P(("关于{name}的咨询",), ("關於{name}的查詢",), ("Question about {name_en}",))

CUSTOMER_OPENING = P(
    (
        "请尽快帮我处理，谢谢。",
        "麻烦帮忙看一下。",
        "着急，请尽快回复。",
        "之前已经联系过一次，还没有解决。",
        "请问需要我提供什么材料？",
    ),
    (
        "請盡快處理，謝謝。",
        "麻煩幫忙查看。",
        "很急，請盡快回覆。",
        "之前已聯絡過一次，仍未解決。",
        "請問需要提供甚麼文件？",
    ),
    (
        "Please help as soon as possible.",
        "Could you look into this?",
        "This is urgent, please reply.",
        "I contacted you before and it is still not fixed.",
        "What do you need from me?",
    ),
)
CALL_NOTE = P(("【来电记录】",), ("【來電記錄】",), ("[Call note] ",))
BRANCH_NOTE = P(("【网点登记】",), ("【分行登記】",), ("[Branch note] ",))

FIRST_REPLY = P(
    ("您好，已收到您反映的问题，正在为您核实处理。", "您好，感谢您的耐心等待，我们正在为您查询。"),
    ("您好，已收到閣下的查詢，正在為您跟進。", "您好，多謝耐心等候，我們正為您查詢。"),
    (
        "Thank you, we have your request and are looking into it now.",
        "Thanks for waiting. We are checking this for you.",
    ),
)
COMPLAINT_REPLY = P(
    ("您的投诉已登记，我们将在15日内给予答复。",),
    ("閣下的投訴已登記，我們會於15日內回覆。",),
    ("Your complaint is registered and we will reply within 15 days.",),
)
ASK_FOR_DETAILS = P(
    ("为便于核实，请提供相关交易截图及身份证明材料。",),
    ("為方便核實，請提供相關交易截圖及身份證明文件。",),
    ("To look into this, please send a screenshot of the transaction and a copy of your ID.",),
)
CUSTOMER_SENDS_DETAILS = P(
    ("材料已发送，请查收。", "截图已上传。"),
    ("文件已傳送，請查收。", "截圖已上載。"),
    ("I have sent the documents.", "Screenshot uploaded."),
)
REFERRED = P(
    ("已转交相关部门核查，预计{days}个工作日内回复您。",),
    ("已轉交相關部門跟進，預計{days}個工作天內回覆。",),
    ("We have passed this to the team concerned and expect to reply within {days} working days.",),
)
RESOLVED_REPLY = P(
    ("您的问题已处理完毕，如有其他疑问欢迎随时联系我们。", "已为您办理完成，感谢您的理解与支持。"),
    ("閣下的問題已處理完畢，如有其他疑問歡迎隨時聯絡我們。", "已為您辦妥，多謝體諒及支持。"),
    (
        "This has now been sorted out. Please get in touch if there is anything else.",
        "All done. Thank you for your patience.",
    ),
)
CUSTOMER_REOPENS = P(
    ("问题还是没有解决，请再帮我看看。",),
    ("問題仍未解決，請再跟進。",),
    ("This still isn't fixed, please take another look.",),
)

REASON_PENDING_CUSTOMER = P(
    ("等待客户补充材料",), ("等待客戶補交文件",), ("Waiting for documents from the customer",)
)
REASON_PENDING_INTERNAL = P(
    ("已转后台部门核查",), ("已轉後勤部門跟進",), ("Referred to the back office",)
)
REASON_REOPENED = P(
    ("客户反馈问题未解决",), ("客戶表示問題未解決",), ("Customer says it is not fixed",)
)
REASON_CONFIRMED = P(("客户确认已解决",), ("客戶確認已解決",), ("Customer confirmed the fix",))
REASON_AUTOCLOSE = P(
    ("{days}天内客户未回复，自动结案",),
    ("{days}日內客戶未有回覆，自動結案",),
    ("No reply from the customer in {days} days, closed automatically",),
)
del P
