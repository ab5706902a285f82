"""The words, places and proportions the data generator draws from."""

from __future__ import annotations


def words(text: str) -> list[str]:
    """Space-separated words as a list (keeps long vocabularies readable)."""
    return text.split()


KINDS = (("person", 70), ("enterprise", 25), ("government", 3), ("investor", 2))
SOURCES = (
    ("online_form", 20),
    ("offline_event", 12),
    ("social_media", 15),
    ("service_record", 8),
    ("referral", 15),
    ("import", 20),
    ("api", 5),
    ("other", 5),
)
STATUSES = (("active", 88), ("dormant", 9), ("closed", 3))
STAGES = (
    ("", 20),
    ("prospect", 20),
    ("introduction", 15),
    ("growth", 20),
    ("maturity", 15),
    ("decline", 6),
    ("churned", 4),
)
SIZES = (("micro", 30), ("small", 35), ("medium", 20), ("large", 10), ("huge", 5))
BUYING_ROLES = (("decision_maker", 25), ("influencer", 30), ("user", 30), ("other", 15))

# (province, city, short name, area code, resident-ID region code, weight)
CN_CITIES = (
    ("上海市", "上海市", "上海", "21", "310104", 14),
    ("北京市", "北京市", "北京", "10", "110105", 13),
    ("广东省", "深圳市", "深圳", "755", "440303", 9),
    ("广东省", "广州市", "广州", "20", "440106", 8),
    ("浙江省", "杭州市", "杭州", "571", "330106", 8),
    ("江苏省", "苏州市", "苏州", "512", "320502", 5),
    ("江苏省", "南京市", "南京", "25", "320102", 5),
    ("四川省", "成都市", "成都", "28", "510122", 6),
    ("湖北省", "武汉市", "武汉", "27", "420102", 5),
    ("天津市", "天津市", "天津", "22", "120101", 4),
    ("陕西省", "西安市", "西安", "29", "610102", 4),
    ("湖南省", "长沙市", "长沙", "731", "430102", 3),
    ("山东省", "青岛市", "青岛", "532", "370202", 3),
    ("山东省", "济南市", "济南", "531", "370102", 2),
    ("福建省", "厦门市", "厦门", "592", "350203", 3),
    ("河南省", "郑州市", "郑州", "371", "410102", 3),
    ("辽宁省", "沈阳市", "沈阳", "24", "210102", 2),
    ("安徽省", "合肥市", "合肥", "551", "340102", 2),
    ("云南省", "昆明市", "昆明", "871", "530102", 2),
)
# (region, city, calling code, phone region, national prefixes, digits after them, weight)
EN_CITIES = (
    ("California", "San Francisco", 1, "US", ("415", "628"), 7, 8),
    ("California", "Los Angeles", 1, "US", ("213", "310", "323"), 7, 8),
    ("New York", "New York", 1, "US", ("212", "646", "917"), 7, 12),
    ("Illinois", "Chicago", 1, "US", ("312", "773"), 7, 6),
    ("Texas", "Houston", 1, "US", ("713", "832"), 7, 5),
    ("Massachusetts", "Boston", 1, "US", ("617", "857"), 7, 5),
    ("Washington", "Seattle", 1, "US", ("206",), 7, 5),
    ("Georgia", "Atlanta", 1, "US", ("404", "678"), 7, 4),
    ("Ontario", "Toronto", 1, "CA", ("416", "647"), 7, 5),
    ("England", "London", 44, "GB", ("7700", "7911", "7400"), 6, 10),
    ("Singapore", "Singapore", 65, "SG", ("8", "9"), 7, 6),
    ("New South Wales", "Sydney", 61, "AU", ("412", "433"), 6, 4),
)
CN_MOBILE_PREFIXES = words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
)
CN_MAIL_DOMAINS = (
    ("qq.com", 35),
    ("163.com", 25),
    ("126.com", 10),
    ("sina.com", 5),
    ("foxmail.com", 5),
    ("gmail.com", 8),
    ("outlook.com", 7),
    ("139.com", 5),
)
EN_MAIL_DOMAINS = (
    ("gmail.com", 40),
    ("outlook.com", 20),
    ("yahoo.com", 15),
    ("icloud.com", 10),
    ("hotmail.com", 10),
    ("proton.me", 5),
)

ZH_TRADES = words(
    "科技 贸易 实业 医药 电子 物流 食品 建设 环保 新能源 文化 教育 咨询 机械 化工 服装 家居 "
    "汽车零部件 信息技术 生物 农业 精密制造 供应链 网络 传媒 餐饮管理 置业 光电"
)
ZH_COMPANY_SUFFIXES = (
    ("有限公司", 70),
    ("股份有限公司", 18),
    ("集团有限公司", 8),
    ("有限责任公司", 4),
)
ZH_AGENCIES = words(
    "市场监督管理局 教育局 卫生健康委员会 财政局 税务局 公安局 交通运输局 住房和城乡建设局 "
    "人力资源和社会保障局 生态环境局 商务局 文化和旅游局 科学技术局 民政局 应急管理局 "
    "发展和改革委员会 大数据管理局 农业农村局 统计局 水务局"
)
ZH_DISTRICTS = ("", "浦东新区", "朝阳区", "海淀区", "南山区", "西湖区", "天河区", "高新区")
ZH_INVESTOR_SUFFIXES = words(
    "资本管理有限公司 投资管理有限公司 私募基金管理有限公司 创业投资有限公司 资产管理有限公司 "
    "股权投资基金（有限合伙） 产业投资基金有限公司"
)
EN_AGENCIES = (
    "Department of Transportation",
    "Department of Education",
    "Health Department",
    "Office of Economic Development",
    "Department of Finance",
    "Parks and Recreation",
    "Public Library",
    "Water Authority",
    "Housing Authority",
    "Procurement Office",
)
EN_INVESTOR_WORDS = words("Capital Ventures Partners Asset Investment Equity Holdings Fund")
EN_INVESTOR_SUFFIXES = ("LP", "LLC", "Management", "Group", "Advisors", "& Co.")
ZH_TITLES = words("总经理 副总经理 采购经理 财务总监 技术总监 行政主管 销售总监 项目经理 董事长")
EN_TITLES = (
    "CEO",
    "CFO",
    "CTO",
    "Head of Procurement",
    "Purchasing Manager",
    "Operations Director",
    "IT Manager",
    "Office Manager",
    "VP Sales",
    "Project Lead",
)

TAGS = [
    *words("VIP 高净值 重点客户 潜在流失 新客户 老客户 展会线索 微信好友 已签约 待回访 价格敏感"),
    *words("决策人已接触 年度合同 海外 政府采购 上市公司 Partner Reseller Newsletter Upsell"),
    *words("Webinar Referral Cold Warm Hot"),
    "Churn risk",
    "Renewal due",
    "Event 2024",
    "Key account",
    "Do not call",
]
GROUPS = {  # parent name -> children
    "重点客户 Key accounts": ["华东大客户", "华北大客户", "Global accounts"],
    "集团客户 Group customers": ["制造业集团", "金融集团", "Retail groups"],
    "家庭客户 Families": ["上海家庭", "北京家庭"],
    "渠道 Channels": ["代理商", "Resellers", "Online partners"],
    "活动 Campaigns": ["2024 春季展会", "2024 Autumn webinar", "2025 新品发布"],
}

# (name, parent name, sales reps) — a sales organisation of 8 teams.
TEAMS = (
    ("本奇示范公司 Bench Co.", None, 0),
    ("销售部 Sales", "本奇示范公司 Bench Co.", 2),
    ("华东区 East", "销售部 Sales", 3),
    ("上海组 Shanghai", "华东区 East", 8),
    ("杭州组 Hangzhou", "华东区 East", 7),
    ("华北区 North", "销售部 Sales", 9),
    ("华南区 South", "销售部 Sales", 9),
    ("大客户部 Key Accounts", "本奇示范公司 Bench Co.", 6),
)
ADMIN_USERNAME = "bench.admin"
MANAGER_USERNAME = "bench.manager.east"  # sales manager of 华东区 East and its sub-teams

CHANNELS = (
    ("phone_call", 30),
    ("wechat", 18),
    ("email", 15),
    ("visit", 8),
    ("meeting", 7),
    ("sms", 5),
    ("chat", 5),
    ("web_form", 4),
    ("note", 5),
    ("whatsapp", 1),
    ("weibo", 1),
    ("fax_letter", 1),
)
ZH_SUMMARIES = (
    "电话回访，客户对新产品感兴趣",
    "上门拜访，讨论年度合同续签",
    "微信沟通报价细节",
    "发送产品资料和价格表",
    "客户咨询售后服务流程",
    "确认发货时间",
    "邀请参加新品发布会",
    "客户反馈使用问题，已转技术支持",
    "商务谈判，客户要求折扣",
    "节日问候",
    "提醒付款",
    "介绍会员积分活动",
)
EN_SUMMARIES = (
    "Follow-up call about the renewal",
    "Sent the price list and brochure",
    "Demo meeting with the buying team",
    "Asked about delivery dates",
    "Support question forwarded to engineering",
    "Negotiated volume discount",
    "Invited to the spring webinar",
    "Quarterly business review",
    "Payment reminder",
    "Introduced the loyalty programme",
)
OUTCOMES = ("", "", "", "有意向", "需跟进", "已成交", "Interested", "Call back", "No answer", "Won")

# Column order of the tuples the generator produces, per table key.
COLUMNS = {
    "customer": words(
        "id created_at updated_at version code kind name name_pinyin name_initials name_key "
        "source status lifecycle_stage owner_id team_id notes phone phone_index phone_last4 "
        "email email_index region city gender birthday id_number id_number_index occupation "
        "bank_account legal_name credit_code industry_id size_band website custom_fields "
        "merged_into_id"
    ),
    "searchtoken": words("id customer_id token"),
    "customertag": words("id added_at customer_id tag_id"),
    "groupmembership": words("id added_at customer_id group_id"),
    "contact": words(
        "id created_at updated_at version customer_id name title buying_role wechat_id "
        "is_primary notes custom_fields"
    ),
    "contactmethod": words("id kind label value value_index last4 contact_id customer_id"),
    "interaction": words(
        "id created_at updated_at version channel direction occurred_at duration_seconds "
        "summary details outcome next_step next_step_date location_name latitude longitude "
        "contact_id customer_id owner_id team_id"
    ),
}
