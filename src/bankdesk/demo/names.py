"""Names for the demo bank's customers: mainland, Hong Kong and English-speaking people and firms.

Written by hand rather than drawn from a faker library, so the mix (surname frequencies, given-name
characters by sex, Hong Kong romanisation) looks like a Chinese bank's book and stays stable
between releases. The romanised forms feed e-mail addresses.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

# fmt: off
# (surname, pinyin, relative frequency): roughly the mainland's most common surnames.
MAINLAND_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.5), ("刘", "liu", 5.3),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.3), ("孙", "sun", 1.3),
    ("马", "ma", 1.1), ("朱", "zhu", 1.1), ("胡", "hu", 1.0), ("郭", "guo", 1.0),
    ("何", "he", 0.9), ("高", "gao", 0.9), ("林", "lin", 0.9), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.8), ("梁", "liang", 0.7), ("谢", "xie", 0.6), ("宋", "song", 0.6),
    ("唐", "tang", 0.6), ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.5),
    ("邓", "deng", 0.5), ("曹", "cao", 0.5), ("彭", "peng", 0.5), ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5), ("田", "tian", 0.4), ("董", "dong", 0.4), ("袁", "yuan", 0.4),
    ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("苏", "su", 0.3), ("魏", "wei", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3),
    ("任", "ren", 0.3), ("沈", "shen", 0.3), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.2),
    ("韦", "wei", 0.2), ("付", "fu", 0.2), ("方", "fang", 0.2), ("白", "bai", 0.2),
    ("邹", "zou", 0.2), ("孟", "meng", 0.2), ("熊", "xiong", 0.2), ("秦", "qin", 0.2),
    ("邱", "qiu", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2),
    ("闫", "yan", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2), ("侯", "hou", 0.2),
    ("龙", "long", 0.2), ("史", "shi", 0.2), ("陶", "tao", 0.1), ("黎", "li", 0.1),
    ("贺", "he", 0.1), ("顾", "gu", 0.1), ("毛", "mao", 0.1), ("郝", "hao", 0.1),
    ("龚", "gong", 0.1), ("邵", "shao", 0.1), ("万", "wan", 0.1), ("钱", "qian", 0.1),
    ("严", "yan", 0.1), ("覃", "qin", 0.1), ("武", "wu", 0.1), ("戴", "dai", 0.1),
    ("莫", "mo", 0.1), ("孔", "kong", 0.1), ("向", "xiang", 0.1), ("汤", "tang", 0.1),
    ("欧阳", "ouyang", 0.02), ("司马", "sima", 0.01), ("上官", "shangguan", 0.01),
    ("诸葛", "zhuge", 0.01),
)

MAINLAND_GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("刚", "gang"), ("平", "ping"), ("辉", "hui"), ("鹏", "peng"), ("华", "hua"),
    ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("斌", "bin"), ("宇", "yu"),
    ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("昊", "hao"),
    ("晨", "chen"), ("博", "bo"), ("文", "wen"), ("轩", "xuan"), ("子", "zi"),
    ("睿", "rui"), ("泽", "ze"), ("然", "ran"), ("铭", "ming"), ("一", "yi"),
    ("诚", "cheng"), ("天", "tian"), ("志", "zhi"), ("建", "jian"), ("国", "guo"),
    ("海", "hai"), ("峰", "feng"), ("成", "cheng"), ("东", "dong"), ("亮", "liang"),
    ("嘉", "jia"), ("家", "jia"), ("振", "zhen"), ("思", "si"), ("远", "yuan"),
    ("毅", "yi"), ("翔", "xiang"), ("安", "an"), ("立", "li"), ("新", "xin"),
)

MAINLAND_GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("玲", "ling"),
    ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("颖", "ying"), ("琳", "lin"),
    ("倩", "qian"), ("洁", "jie"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"),
    ("梦", "meng"), ("雨", "yu"), ("思", "si"), ("涵", "han"), ("萱", "xuan"),
    ("悦", "yue"), ("诗", "shi"), ("琪", "qi"), ("晴", "qing"), ("婧", "jing"),
    ("瑶", "yao"), ("璐", "lu"), ("蕾", "lei"), ("薇", "wei"), ("月", "yue"),
    ("萍", "ping"), ("红", "hong"), ("燕", "yan"), ("丹", "dan"), ("晓", "xiao"),
    ("文", "wen"), ("子", "zi"), ("嘉", "jia"), ("可", "ke"), ("心", "xin"),
    ("安", "an"), ("宁", "ning"), ("婉", "wan"), ("清", "qing"), ("美", "mei"),
)

# Hong Kong: traditional characters, Hong Kong government romanisation.
HK_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("陳", "chan", 8.0), ("黃", "wong", 6.0), ("李", "lee", 5.0), ("張", "cheung", 4.0),
    ("梁", "leung", 3.5), ("林", "lam", 3.0), ("劉", "lau", 3.0), ("何", "ho", 2.5),
    ("吳", "ng", 2.5), ("王", "wong", 2.0), ("鄭", "cheng", 2.0), ("楊", "yeung", 2.0),
    ("謝", "tse", 1.5), ("麥", "mak", 1.5), ("郭", "kwok", 1.5), ("羅", "law", 1.5),
    ("周", "chow", 1.5), ("曾", "tsang", 1.2), ("鄧", "tang", 1.2), ("胡", "wu", 1.0),
    ("蔡", "choi", 1.0), ("朱", "chu", 1.0), ("譚", "tam", 1.0), ("袁", "yuen", 1.0),
    ("馮", "fung", 1.0), ("葉", "yip", 1.0), ("許", "hui", 1.0), ("蘇", "so", 0.8),
    ("盧", "lo", 0.8), ("鍾", "chung", 0.8), ("馬", "ma", 0.8), ("彭", "pang", 0.7),
    ("潘", "poon", 0.7), ("余", "yu", 0.6), ("莫", "mok", 0.6), ("姚", "yiu", 0.5),
    ("文", "man", 0.5), ("溫", "wan", 0.5), ("區", "au", 0.5), ("關", "kwan", 0.5),
    ("岑", "shum", 0.4), ("司徒", "szeto", 0.2), ("歐陽", "auyeung", 0.2),
)

HK_GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("偉", "wai"), ("志", "chi"), ("家", "ka"), ("俊", "chun"), ("文", "man"),
    ("國", "kwok"), ("明", "ming"), ("建", "kin"), ("健", "kin"), ("嘉", "ka"),
    ("浩", "ho"), ("子", "tsz"), ("傑", "kit"), ("永", "wing"), ("德", "tak"),
    ("華", "wah"), ("榮", "wing"), ("輝", "fai"), ("強", "keung"), ("豪", "ho"),
    ("樂", "lok"), ("鴻", "hung"), ("皓", "ho"), ("朗", "long"), ("進", "chun"),
    ("耀", "yiu"), ("民", "man"), ("信", "shun"), ("達", "tat"), ("峰", "fung"),
)

HK_GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("嘉", "ka"), ("詠", "wing"), ("慧", "wai"), ("美", "mei"), ("淑", "suk"),
    ("麗", "lai"), ("敏", "man"), ("欣", "yan"), ("穎", "wing"), ("婷", "ting"),
    ("詩", "sze"), ("惠", "wai"), ("雅", "nga"), ("琪", "kei"), ("芷", "tsz"),
    ("凱", "hoi"), ("玉", "yuk"), ("珊", "shan"), ("翠", "chui"), ("寶", "po"),
    ("秀", "sau"), ("玲", "ling"), ("儀", "yi"), ("恩", "yan"), ("靜", "ching"),
    ("曉", "hiu"), ("佩", "pui"), ("月", "yuet"), ("鳳", "fung"), ("潔", "kit"),
)

ENGLISH_GIVEN_MALE: tuple[str, ...] = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Paul", "Steven", "Andrew", "Kenneth",
    "Joshua", "Kevin", "Brian", "George", "Edward", "Ryan", "Jason", "Peter", "Simon", "Oliver",
    "Henry", "Samuel", "Benjamin", "Jack", "Harry", "Alexander", "Patrick", "Raymond", "Vincent",
    "Eric", "Alan", "Ian",
)

ENGLISH_GIVEN_FEMALE: tuple[str, ...] = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Nancy", "Lisa", "Margaret", "Emily", "Michelle", "Amanda", "Melissa", "Stephanie",
    "Rebecca", "Laura", "Sharon", "Helen", "Amy", "Anna", "Rachel", "Catherine", "Emma",
    "Olivia", "Sophie", "Charlotte", "Grace", "Hannah", "Lucy", "Chloe", "Victoria", "Joanne",
    "Fiona", "Claire", "Natalie", "Alice",
)

ENGLISH_SURNAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green",
    "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook",
    "Rogers", "Morgan", "Cooper", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox",
    "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "Hughes", "Price", "Fraser",
    "Hamilton", "MacDonald", "Sullivan", "O'Brien",
    # English-speaking customers of Chinese heritage, as in Hong Kong, Singapore and abroad.
    "Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Tan", "Lim", "Ho", "Leung",
)

# Firms for the small-business and corporate segments.
MAINLAND_CITIES = ("上海", "北京", "深圳", "广州", "杭州", "成都", "苏州", "南京", "武汉",
                   "西安", "天津", "重庆", "宁波", "厦门", "青岛", "长沙")
MAINLAND_BRANDS = ("鑫达", "华盛", "恒通", "宏远", "瑞丰", "嘉禾", "永兴", "金泰", "天成",
                   "博雅", "汇丰源", "德润", "启明", "万象", "盛和", "信诚", "锦程", "隆基")
MAINLAND_TRADES = ("贸易", "科技", "餐饮管理", "物流", "建材", "电子", "服装", "文化传媒",
                   "医疗器械", "食品", "信息技术", "进出口", "装饰工程", "农业发展")
HK_BRANDS = ("恒昌", "永利", "匯通", "嘉華", "德興", "東昇", "金輝", "利豐源", "瑞祥", "寶麗")
HK_TRADES = ("貿易", "科技", "物流", "實業", "珠寶", "投資", "國際", "電子", "餐飲集團")
ENGLISH_BRANDS = ("Harbour", "Pacific", "Golden", "Evergreen", "Silverline", "Northstar",
                  "Bluewave", "Redwood", "Lotus", "Jade", "Kowloon", "Orient", "Summit", "Crown")
ENGLISH_TRADES = ("Trading", "Technology", "Logistics", "Foods", "Design", "Consulting",
                  "Engineering", "Textiles", "Holdings", "Imports")

# fmt: on


@dataclass(frozen=True)
class Name:
    """A customer's name as the bank records it, plus a romanised handle for e-mail addresses."""

    full: str
    handle: str
    is_female: bool
    is_company: bool = False


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


_MAINLAND_SURNAME_CUM = _cumulative([weight for _, _, weight in MAINLAND_SURNAMES])
_HK_SURNAME_CUM = _cumulative([weight for _, _, weight in HK_SURNAMES])


def _chinese_name(
    rng: random.Random,
    surnames: tuple[tuple[str, str, float], ...],
    cumulative: list[float],
    given: tuple[tuple[str, str], ...],
    two_char_share: float,
    is_female: bool,
) -> Name:
    surname, surname_roman, _ = rng.choices(surnames, cum_weights=cumulative)[0]
    count = 2 if rng.random() < two_char_share else 1
    chars = [rng.choice(given) for _ in range(count)]
    if count == 2 and chars[0][0] == chars[1][0] and rng.random() < 0.7:
        chars[1] = rng.choice(given)  # reduplicated names (婷婷) exist but are rarer
    given_name = "".join(char for char, _ in chars)
    given_roman = "".join(roman for _, roman in chars)
    if rng.random() < 0.5:
        handle = f"{surname_roman}.{given_roman}"
    else:
        handle = f"{given_roman}{surname_roman}"
    return Name(full=surname + given_name, handle=handle, is_female=is_female)


def person_name(rng: random.Random, language: str) -> Name:
    """A plausible personal name for a customer who prefers `language` (zh-hans, zh-hant, en)."""
    is_female = rng.random() < 0.5
    if language == "zh-hant":
        given = HK_GIVEN_FEMALE if is_female else HK_GIVEN_MALE
        return _chinese_name(rng, HK_SURNAMES, _HK_SURNAME_CUM, given, 0.9, is_female)
    if language == "en":
        first = rng.choice(ENGLISH_GIVEN_FEMALE if is_female else ENGLISH_GIVEN_MALE)
        last = rng.choice(ENGLISH_SURNAMES)
        handle_last = "".join(ch for ch in last.lower() if ch.isalpha())
        return Name(
            full=f"{first} {last}", handle=f"{first.lower()}.{handle_last}", is_female=is_female
        )
    given = MAINLAND_GIVEN_FEMALE if is_female else MAINLAND_GIVEN_MALE
    return _chinese_name(rng, MAINLAND_SURNAMES, _MAINLAND_SURNAME_CUM, given, 0.7, is_female)


def company_name(rng: random.Random, language: str) -> Name:
    """A small firm or corporate customer's registered name."""
    if language == "zh-hant":
        full = f"香港{rng.choice(HK_BRANDS)}{rng.choice(HK_TRADES)}有限公司"
    elif language == "en":
        full = f"{rng.choice(ENGLISH_BRANDS)} {rng.choice(ENGLISH_TRADES)} Limited"
    else:
        full = (
            f"{rng.choice(MAINLAND_CITIES)}{rng.choice(MAINLAND_BRANDS)}"
            f"{rng.choice(MAINLAND_TRADES)}有限公司"
        )
    handle = rng.choice(("finance", "accounts", "treasury", "admin", "office"))
    return Name(full=full, handle=handle, is_female=False, is_company=True)
