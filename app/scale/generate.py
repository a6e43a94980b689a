"""A realistic, deterministic province for scale tests: ``flask seed-scale --persons N --seed S``.

What it builds (on top of an empty product database or the demo world):

- the organisation tree: the province (re-used if it exists), ~100 supervisory departments in three
  levels (provincial departments, city bureaus, district bureaus of Wuhan and Yichang), ``--units``
  employer units and training bases (default 2,000) spread over them, about 1 % of the units pending
  registration; internal departments (内设部门) for every organisation;
- one super admin per new organisation, and two benchmark admins: a province admin and the admin of
  武汉市卫生健康委员会, a mid-level department whose subtree holds about 10 % of the persons;
- N persons with unique, checksum-valid ID numbers (Hubei region codes, births 1960–1999), Chinese names
  matching the gender digit, title series and levels as each sector has them;
- pending registrations (the newest persons: status pending, an inactive login, a pending
  person_registration request and its "submit" audit row — at least 1,100 of them below the mid-level
  admin when N allows) and pending person_change requests.

Everything derives from the seed: each step draws from its own ``random.Random`` so adding a step never
changes the data of another. The ID numbers come from a bijection of a large index space (region × birth
day × sequence number), so they are unique by construction and the first ones do not depend on N.

Loading goes through ``Loader``: COPY ... FROM STDIN (streamed text format) on PostgreSQL, executemany on
SQLite. A marker row in audit_log (action ``seed_scale``) records what was loaded, so a second run with
the same size and seed is a no-op and the benchmark finds its admins.

Extending: a later table adds ``register_step(Step("credit_records", fn), after="persons")``; ``fn``
receives the ``GenerationContext`` (``ctx.loader``, ``ctx.rng(name)``, ``ctx.persons`` with the id range
and per-person employer/status arrays, ``ctx.orgs``...).
"""
from __future__ import annotations

import bisect
import datetime
import itertools
import json
import math
import random
import time
from array import array
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Sequence

from sqlalchemy import func, select, text

from app.extensions import db
from app.services.transaction import transaction
from app.validators import make_id_number, make_uscc

#: bump when the generated data changes shape, so an old load is not taken for a new one
GENERATOR_VERSION = 5
#: password of every account the generator creates (benchmark data only)
BENCH_PASSWORD = "Bench@2026"
MARKER_ACTION = "seed_scale"
MARKER_OBJECT = "scale"
#: the generator's "now": timestamps are fixed so the data is the same on every run
BASE_TIME = datetime.datetime(2026, 1, 5, 9, 0, 0)
#: the mid-level department whose admin the benchmark uses (about 10 % of the persons below it)
MID_ORG_NAME = "武汉市卫生健康委员会"
MID_SHARE = 0.10
#: pending registrations placed below the mid-level department (the benchmark approves 1,000)
MID_PENDING = 1100

# ---------------------------------------------------------------------------------------------------
# Reference tables: places, sectors, names
# ---------------------------------------------------------------------------------------------------

#: (city code, city, [(district code, district)])
HUBEI = [
    ("420100", "武汉市", [("420102", "江岸区"), ("420103", "江汉区"), ("420104", "硚口区"),
                        ("420105", "汉阳区"), ("420106", "武昌区"), ("420107", "青山区"),
                        ("420111", "洪山区"), ("420112", "东西湖区"), ("420113", "汉南区"),
                        ("420114", "蔡甸区"), ("420115", "江夏区"), ("420116", "黄陂区"),
                        ("420117", "新洲区")]),
    ("420200", "黄石市", [("420202", "黄石港区"), ("420203", "西塞山区"), ("420204", "下陆区"),
                        ("420205", "铁山区"), ("420222", "阳新县"), ("420281", "大冶市")]),
    ("420300", "十堰市", [("420302", "茅箭区"), ("420303", "张湾区"), ("420304", "郧阳区"),
                        ("420322", "郧西县"), ("420323", "竹山县"), ("420324", "竹溪县"),
                        ("420325", "房县"), ("420381", "丹江口市")]),
    ("420500", "宜昌市", [("420502", "西陵区"), ("420503", "伍家岗区"), ("420504", "点军区"),
                        ("420505", "猇亭区"), ("420506", "夷陵区"), ("420525", "远安县"),
                        ("420526", "兴山县"), ("420527", "秭归县"), ("420581", "宜都市"),
                        ("420582", "当阳市"), ("420583", "枝江市")]),
    ("420600", "襄阳市", [("420602", "襄城区"), ("420606", "樊城区"), ("420607", "襄州区"),
                        ("420624", "南漳县"), ("420625", "谷城县"), ("420626", "保康县"),
                        ("420682", "老河口市"), ("420683", "枣阳市"), ("420684", "宜城市")]),
    ("420700", "鄂州市", [("420702", "梁子湖区"), ("420703", "华容区"), ("420704", "鄂城区")]),
    ("420800", "荆门市", [("420802", "东宝区"), ("420804", "掇刀区"), ("420822", "沙洋县"),
                        ("420881", "钟祥市"), ("420882", "京山市")]),
    ("420900", "孝感市", [("420902", "孝南区"), ("420921", "孝昌县"), ("420922", "大悟县"),
                        ("420923", "云梦县"), ("420981", "应城市"), ("420982", "安陆市"),
                        ("420984", "汉川市")]),
    ("421000", "荆州市", [("421002", "沙市区"), ("421003", "荆州区"), ("421022", "公安县"),
                        ("421024", "江陵县"), ("421081", "石首市"), ("421083", "洪湖市"),
                        ("421087", "松滋市"), ("421088", "监利市")]),
    ("421100", "黄冈市", [("421102", "黄州区"), ("421121", "团风县"), ("421122", "红安县"),
                        ("421123", "罗田县"), ("421124", "英山县"), ("421125", "浠水县"),
                        ("421126", "蕲春县"), ("421127", "黄梅县"), ("421181", "麻城市"),
                        ("421182", "武穴市")]),
    ("421200", "咸宁市", [("421202", "咸安区"), ("421221", "嘉鱼县"), ("421222", "通城县"),
                        ("421223", "崇阳县"), ("421224", "通山县"), ("421281", "赤壁市")]),
    ("421300", "随州市", [("421303", "曾都区"), ("421321", "随县"), ("421381", "广水市")]),
    ("422800", "恩施土家族苗族自治州", [("422801", "恩施市"), ("422802", "利川市"), ("422822", "建始县"),
                                ("422823", "巴东县"), ("422825", "宣恩县"), ("422826", "咸丰县"),
                                ("422827", "来凤县"), ("422828", "鹤峰县")]),
    ("429004", "仙桃市", []),
    ("429005", "潜江市", []),
    ("429006", "天门市", []),
    ("429021", "神农架林区", []),
]
CITY_NAMES = {code: name for code, name, _ in HUBEI}
#: region codes persons are born in (county level; the four directly administered cities too)
ID_REGIONS = [d for _, _, districts in HUBEI for d, _ in districts] + ["429004", "429005", "429006", "429021"]
BIRTH_FIRST = datetime.date(1960, 1, 1)
BIRTH_DAYS = (datetime.date(1999, 12, 31) - BIRTH_FIRST).days + 1

#: sector -> title series weights of the people working there
SECTOR_SERIES = {
    "health": {"卫生技术人员": 85, "会计": 3, "工程技术人员": 2, "经济": 2, "自然科学研究人员": 3,
               "图书资料": 1, "档案": 1, "统计": 1, "实验技术": 2},
    "education": {"中小学教师": 88, "中等职业学校教师": 4, "会计": 2, "实验技术": 2, "图书资料": 2,
                  "体育": 1, "艺术": 1},
    "higher_ed": {"高等学校教师": 70, "实验技术": 8, "自然科学研究人员": 8, "哲学社会科学研究人员": 6,
                  "图书资料": 3, "会计": 2, "档案": 1, "出版": 2},
    "engineering": {"工程技术人员": 80, "经济": 7, "会计": 6, "统计": 2, "审计": 2, "翻译": 1, "实验技术": 2},
    "agriculture": {"农业技术人员": 80, "工程技术人员": 8, "经济": 5, "会计": 5, "统计": 2},
    "finance": {"会计": 40, "经济": 35, "统计": 10, "审计": 12, "公共法律服务": 3},
    "culture": {"艺术": 25, "文物博物": 15, "图书资料": 15, "档案": 10, "工艺美术": 10, "新闻": 8,
                "出版": 7, "播音主持": 5, "翻译": 5},
    "media": {"新闻": 40, "播音主持": 25, "出版": 20, "艺术": 10, "工程技术人员": 5},
    "research": {"自然科学研究人员": 50, "工程技术人员": 25, "实验技术": 15, "哲学社会科学研究人员": 10},
    "legal": {"公共法律服务": 70, "会计": 10, "经济": 10, "档案": 10},
    "transport": {"工程技术人员": 60, "船舶": 20, "民用航空飞行技术": 8, "经济": 7, "会计": 5},
    "sports": {"体育": 80, "卫生技术人员": 10, "会计": 10},
    "vocational": {"技工院校教师": 50, "中等职业学校教师": 40, "实验技术": 10},
    "social": {"经济": 30, "会计": 20, "卫生技术人员": 20, "工程技术人员": 15, "档案": 15},
    "audit": {"审计": 70, "会计": 20, "经济": 10},
}
#: how many people a unit of the sector employs, relative to others
SECTOR_SIZE = {"health": 1.6, "education": 1.0, "higher_ed": 4.0, "engineering": 1.2, "agriculture": 0.6,
               "finance": 0.7, "culture": 0.5, "media": 0.6, "research": 0.9, "legal": 0.4,
               "transport": 1.0, "sports": 0.4, "vocational": 1.2, "social": 0.5, "audit": 0.4}
#: name suffixes of units: used once per place, then the numbered ones
SECTOR_UNITS = {
    "health": (["人民医院", "中医医院", "妇幼保健院", "疾病预防控制中心", "精神卫生中心", "急救中心", "中心医院",
                "传染病医院", "口腔医院", "肿瘤医院", "结核病防治所", "血液中心"],
               ["第{cn}人民医院", "第{cn}社区卫生服务中心"]),
    "education": (["第一中学", "实验小学", "实验中学", "外国语学校", "特殊教育学校", "实验幼儿园", "职业教育中心"],
                  ["第{cn}中学", "第{cn}小学"]),
    "higher_ed": (["武汉大学", "华中科技大学", "武汉理工大学", "华中师范大学", "华中农业大学", "中南财经政法大学",
                   "中国地质大学（武汉）", "湖北大学", "武汉科技大学", "长江大学", "武汉工程大学", "三峡大学",
                   "湖北工业大学", "武汉纺织大学", "武汉轻工大学", "湖北中医药大学", "湖北师范大学", "黄冈师范学院",
                   "湖北民族大学", "汉江师范学院", "湖北文理学院", "湖北汽车工业学院", "湖北经济学院",
                   "湖北科技学院", "湖北医药学院", "江汉大学", "湖北理工学院", "湖北工程学院", "荆楚理工学院",
                   "武汉体育学院", "湖北美术学院", "武汉音乐学院", "武汉商学院", "湖北第二师范学院"],
                  ["湖北第{cn}职业技术学院"]),
    "engineering": (["建筑设计研究院", "市政工程设计研究院", "城市建设集团有限公司", "勘察设计院", "建设工程质量检测中心",
                     "水利水电勘测设计院", "测绘院", "环境监测中心", "产品质量监督检验院", "特种设备检验检测院"],
                    ["第{cn}建筑工程有限公司", "第{cn}工程勘察院"]),
    "agriculture": (["农业技术推广中心", "农业科学院", "畜牧技术推广站", "种子管理站", "林业科学研究所",
                     "水产科学研究所", "农机推广站", "植物保护站"],
                    ["第{cn}农业技术服务站"]),
    "finance": (["财政投资评审中心", "会计服务中心", "国库集中支付中心", "投资集团有限公司", "农村信用合作联社",
                 "统计调查中心"],
                ["第{cn}会计师事务所", "第{cn}税务师事务所"]),
    "culture": (["博物馆", "图书馆", "群众艺术馆", "档案馆", "美术馆", "京剧院", "歌舞剧院", "文化馆", "汉剧院",
                 "艺术研究院"],
                ["第{cn}文化站"]),
    "media": (["广播电视台", "日报社", "出版社", "融媒体中心", "新闻出版集团"], ["第{cn}印刷厂"]),
    "research": (["科学技术信息研究院", "技术研究院", "生产力促进中心", "工业技术研究院", "计量测试研究院"],
                 ["第{cn}研究所"]),
    "legal": (["公证处", "法律援助中心", "司法鉴定中心", "仲裁委员会办公室"], ["第{cn}律师事务所"]),
    "transport": (["交通规划设计院", "港航事业发展中心", "公路事业发展中心", "机场集团有限公司", "公共交通集团"],
                  ["第{cn}路桥工程公司"]),
    "sports": (["体育运动学校", "体育中心", "体育科学研究所", "全民健身中心"], ["第{cn}体育场馆"]),
    "vocational": (["技师学院", "高级技工学校", "职业技术学院", "工程职业学院"], ["第{cn}技工学校"]),
    "social": (["社会福利院", "救助管理站", "康复医院", "养老服务中心"], ["第{cn}社会福利中心"]),
    "audit": (["审计服务中心", "经济责任审计中心"], ["第{cn}审计事务所"]),
}
SECTOR_BASE = {"health": "卫生人才", "education": "教师", "higher_ed": "高校师资", "engineering": "工程技术人才",
               "agriculture": "农业技术人才", "finance": "财会人才", "culture": "文化人才", "media": "新闻出版人才",
               "research": "科技人才", "legal": "法律服务人才", "transport": "交通人才", "sports": "体育人才",
               "vocational": "职业教育师资", "social": "社会工作人才", "audit": "审计人才"}
SECTOR_DEPARTMENTS = {
    "health": ["内科", "外科", "儿科", "妇产科", "急诊科", "护理部", "医务处", "检验科", "放射科", "药剂科",
               "麻醉科", "眼科", "口腔科", "康复医学科", "人事科"],
    "education": ["高中部", "初中部", "小学部", "教务处", "政教处", "总务处", "教科室", "语文教研组", "数学教研组"],
    "higher_ed": ["文学院", "理学院", "工学院", "医学部", "经济管理学院", "外国语学院", "计算机学院", "人事处",
                  "教务处", "图书馆", "实验室与设备处"],
    "engineering": ["设计一所", "设计二所", "工程部", "技术部", "质量安全部", "财务部", "人力资源部", "市场部"],
}
GENERIC_DEPARTMENTS = ["办公室", "人事科", "财务科", "业务一科", "业务二科", "技术科", "综合科"]
SUPERVISORY_DEPARTMENTS = ["办公室", "人事处", "科技教育处", "政策法规处", "财务处", "职业能力建设处"]
BASE_DEPARTMENTS = ["培训部", "教务部", "办公室", "考务部"]

#: national spread of series, used for the 15 % who do not follow their unit's sector
NATIONAL_SERIES = {"中小学教师": 30, "卫生技术人员": 20, "工程技术人员": 15, "会计": 6, "经济": 5,
                   "高等学校教师": 4, "农业技术人员": 4, "中等职业学校教师": 2, "技工院校教师": 1,
                   "自然科学研究人员": 1.5, "哲学社会科学研究人员": 0.5, "实验技术": 1.5, "统计": 1, "审计": 1,
                   "图书资料": 0.6, "文物博物": 0.3, "档案": 0.5, "新闻": 0.5, "出版": 0.4, "艺术": 0.8,
                   "工艺美术": 0.2, "体育": 0.3, "翻译": 0.2, "播音主持": 0.2, "公共法律服务": 0.4, "船舶": 0.2,
                   "民用航空飞行技术": 0.1}
#: title level codes and their weights (None: no title yet)
LEVEL_WEIGHTS = [("senior", 3), ("associate_senior", 12), ("intermediate", 38), ("assistant", 32),
                 ("junior", 10), (None, 5)]
#: title names per series, from 正高级 to 员级
TITLE_NAMES = {
    "卫生技术人员": ["主任医师", "副主任医师", "主治医师", "医师", "医士"],
    "中小学教师": ["正高级教师", "高级教师", "一级教师", "二级教师", "三级教师"],
    "高等学校教师": ["教授", "副教授", "讲师", "助教", "助教"],
    "工程技术人员": ["正高级工程师", "高级工程师", "工程师", "助理工程师", "技术员"],
    "会计": ["正高级会计师", "高级会计师", "会计师", "助理会计师", "会计员"],
    "经济": ["正高级经济师", "高级经济师", "经济师", "助理经济师", "经济员"],
    "农业技术人员": ["农业技术推广研究员", "高级农艺师", "农艺师", "助理农艺师", "农业技术员"],
    "统计": ["正高级统计师", "高级统计师", "统计师", "助理统计师", "统计员"],
    "审计": ["正高级审计师", "高级审计师", "审计师", "助理审计师", "审计员"],
    "自然科学研究人员": ["研究员", "副研究员", "助理研究员", "研究实习员", "研究实习员"],
    "哲学社会科学研究人员": ["研究员", "副研究员", "助理研究员", "研究实习员", "研究实习员"],
    "实验技术": ["正高级实验师", "高级实验师", "实验师", "助理实验师", "实验员"],
    "中等职业学校教师": ["正高级讲师", "高级讲师", "讲师", "助理讲师", "实习指导教师"],
    "技工院校教师": ["正高级讲师", "高级讲师", "讲师", "助理讲师", "实习指导教师"],
    "图书资料": ["研究馆员", "副研究馆员", "馆员", "助理馆员", "管理员"],
    "文物博物": ["研究馆员", "副研究馆员", "馆员", "助理馆员", "管理员"],
    "档案": ["研究馆员", "副研究馆员", "馆员", "助理馆员", "管理员"],
    "新闻": ["高级记者", "主任记者", "记者", "助理记者", "助理记者"],
    "出版": ["编审", "副编审", "编辑", "助理编辑", "助理编辑"],
    "播音主持": ["播音指导", "主任播音员", "一级播音员", "二级播音员", "三级播音员"],
    "艺术": ["一级演员", "二级演员", "三级演员", "四级演员", "四级演员"],
    "翻译": ["译审", "副译审", "翻译", "助理翻译", "助理翻译"],
    "工艺美术": ["正高级工艺美术师", "高级工艺美术师", "工艺美术师", "助理工艺美术师", "工艺美术员"],
    "体育": ["国家级教练", "高级教练", "中级教练", "初级教练", "初级教练"],
    "公共法律服务": ["一级公证员", "二级公证员", "三级公证员", "四级公证员", "公证员助理"],
    "船舶": ["正高级船舶工程师", "高级船舶工程师", "船舶工程师", "助理船舶工程师", "船舶技术员"],
    "民用航空飞行技术": ["一级飞行员", "二级飞行员", "三级飞行员", "四级飞行员", "四级飞行员"],
}
LEVEL_ORDER = ["senior", "associate_senior", "intermediate", "assistant", "junior"]

#: surnames by frequency (per mille, roughly the national ranking; 胡 and 熊 a bit higher in Hubei)
SURNAMES = [
    ("王", 71), ("李", 70), ("张", 68), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 22), ("赵", 22),
    ("吴", 20), ("周", 19), ("胡", 16), ("徐", 13), ("孙", 13), ("马", 12), ("朱", 11), ("郭", 10),
    ("何", 10), ("高", 9), ("林", 9), ("罗", 9), ("郑", 7), ("梁", 7), ("谢", 6), ("宋", 6), ("唐", 5),
    ("许", 5), ("韩", 5), ("冯", 5), ("邓", 5), ("曹", 5), ("彭", 5), ("曾", 4), ("肖", 4), ("田", 4),
    ("董", 4), ("袁", 4), ("余", 4), ("熊", 4), ("潘", 3), ("于", 3), ("蒋", 3), ("蔡", 3), ("杜", 3),
    ("叶", 3), ("程", 3), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 2),
    ("卢", 2), ("姜", 2), ("崔", 2), ("钟", 2), ("谭", 2), ("陆", 2), ("汪", 2), ("范", 2), ("金", 2),
    ("石", 2), ("廖", 2), ("贾", 2), ("夏", 2), ("付", 2), ("方", 2), ("邹", 2), ("万", 2), ("韦", 1),
    ("白", 1), ("孟", 1), ("秦", 1), ("邱", 1), ("江", 1), ("尹", 1), ("薛", 1), ("闫", 1), ("段", 1),
    ("雷", 1), ("侯", 1), ("龙", 1), ("史", 1), ("陶", 1), ("黎", 1), ("贺", 1), ("顾", 1), ("毛", 1),
    ("郝", 1), ("龚", 1), ("邵", 1), ("钱", 1), ("严", 1), ("覃", 1), ("戴", 1), ("向", 1), ("汤", 1),
    ("欧阳", 0.5), ("上官", 0.1), ("司马", 0.1), ("诸葛", 0.05),
]
MALE_GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国峰亮成志文博晨宏海东江锋兵毅彬翔坤晖振伦然子轩睿泽昊天家嘉一思德"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞秀英华玲桂兰萍红燕婷雪琳洁丹倩颖慧莉琴晶妍欣怡佳梅莹蕾薇雯露瑶璐悦彤诗涵梦雨思琪"
EDUCATION_WEIGHTS = [("doctorate", 3), ("master", 15), ("bachelor", 50), ("college", 25), ("secondary", 5),
                     ("other", 2)]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "156", "157", "158", "159", "176", "177", "180", "181", "182", "186", "187", "188", "189",
                   "199"]
_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..999 in Chinese numerals (第十二, 第一百零三)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = _CN_DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    return head + ("零" + _CN_DIGITS[rest] if rest < 10 else chinese_number(rest) if rest >= 20 else "一" + chinese_number(rest))


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


# ---------------------------------------------------------------------------------------------------
# The supervisory tree
# ---------------------------------------------------------------------------------------------------

#: (key, name, sector of its own units, sector of its children's units, city code of child bureaus)
PROVINCIAL_DEPARTMENTS = [
    ("edu", "湖北省教育厅", "higher_ed", "education"),
    ("sci", "湖北省科学技术厅", "research", None),
    ("eit", "湖北省经济和信息化厅", "engineering", None),
    ("civil", "湖北省民政厅", "social", None),
    ("justice", "湖北省司法厅", "legal", None),
    ("finance", "湖北省财政厅", "finance", None),
    ("land", "湖北省自然资源厅", "engineering", None),
    ("env", "湖北省生态环境厅", "engineering", None),
    ("housing", "湖北省住房和城乡建设厅", "engineering", "engineering"),
    ("transport", "湖北省交通运输厅", "transport", None),
    ("water", "湖北省水利厅", "engineering", None),
    ("agri", "湖北省农业农村厅", "agriculture", "agriculture"),
    ("commerce", "湖北省商务厅", "finance", None),
    ("culture", "湖北省文化和旅游厅", "culture", None),
    ("health", "湖北省卫生健康委员会", "health", "health"),
    ("audit", "湖北省审计厅", "audit", None),
    ("sasac", "湖北省人民政府国有资产监督管理委员会", "engineering", None),
    ("market", "湖北省市场监督管理局", "engineering", None),
    ("radio", "湖北省广播电视局", "media", None),
    ("sport", "湖北省体育局", "sports", None),
    ("stats", "湖北省统计局", "finance", None),
    ("forest", "湖北省林业局", "agriculture", None),
    ("drug", "湖北省药品监督管理局", "health", None),
    ("voc", "湖北省技工教育研究中心", "vocational", None),
]
#: bureau name suffix per provincial department with city children, and how many cities get one
CITY_BUREAUS = {"health": ("卫生健康委员会", 17), "edu": ("教育局", 17), "housing": ("住房和城乡建设局", 8),
                "agri": ("农业农村局", 8)}
#: city bureaus with district bureaus below them: (parent key, city code, district suffix, how many)
DISTRICT_BUREAUS = [("health", "420100", "卫生健康局", 13), ("edu", "420100", "教育局", 8),
                    ("health", "420500", "卫生健康局", 5), ("edu", "420500", "教育局", 3)]


@dataclass
class OrgRow:
    id: int
    type: str
    name: str
    parent_id: Optional[int]
    path: str
    depth: int
    region: str
    sector: str
    status: str = "approved"
    uscc: Optional[str] = None
    new: bool = True
    #: relative size (employers only)
    weight: float = 0.0
    departments: list = field(default_factory=list)


@dataclass
class PersonTable:
    """What later steps need about the persons: their id range and per-person facts."""

    first_id: int = 0
    count: int = 0
    employer_id: array = field(default_factory=lambda: array("i"))
    #: 0 active, 1 left, 2 pending
    status: array = field(default_factory=lambda: array("b"))

    STATUS_CODES = ("active", "left", "pending")


# ---------------------------------------------------------------------------------------------------
# Loading: COPY on PostgreSQL, executemany on SQLite
# ---------------------------------------------------------------------------------------------------


class _CopyStream:
    """File-like object psycopg2's copy_expert reads from: rows are formatted in batches on demand."""

    def __init__(self, rows: Iterable[tuple], counter: list, batch: int = 4000):
        self._rows = iter(rows)
        self._counter = counter
        self._batch = batch

    def read(self, size: int = -1) -> str:
        lines = []
        for row in itertools.islice(self._rows, self._batch):
            lines.append("\t".join(["\\N" if v is None else str(v) for v in row]))
        if not lines:
            return ""
        self._counter[0] += len(lines)
        return "\n".join(lines) + "\n"

    readline = read


class Loader:
    """Bulk insert into the session's transaction: COPY (PostgreSQL) or executemany (others)."""

    def __init__(self, session, echo: Callable[[str], None] = lambda _: None):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.echo = echo
        self.loaded: dict[str, int] = {}
        #: tables filled by SQL (no id sequence to move) that VACUUM ANALYZE covers too
        self.filled: set[str] = set()

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def next_id(self, table: str) -> int:
        return (self.session.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0) + 1

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """Insert rows (tuples of str/int/None; dates as ISO strings, booleans as 1/0)."""
        if self.is_postgresql:
            counter = [0]
            raw = self.session.connection().connection.dbapi_connection
            with raw.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN", _CopyStream(rows, counter), size=1 << 20
                )
            count = counter[0]
        else:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            raw = self.session.connection().connection.dbapi_connection
            cursor = raw.cursor()
            count = 0
            rows = iter(rows)
            while True:
                chunk = list(itertools.islice(rows, 5000))
                if not chunk:
                    break
                cursor.executemany(sql, chunk)
                count += len(chunk)
            cursor.close()
        self.loaded[table] = self.loaded.get(table, 0) + count
        return count

    def finish(self) -> None:
        """Move every id sequence past the explicit ids the loader wrote."""
        if not self.is_postgresql:
            return
        for table in self.loaded:
            self.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            ))

    def analyze(self) -> None:
        """VACUUM ANALYZE what was loaded (PostgreSQL: fresh statistics and visibility map)."""
        engine = self.session.get_bind()
        if self.is_postgresql:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in [*self.loaded, *sorted(self.filled)]:
                    conn.execute(text(f"VACUUM ANALYZE {table}"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))


# ---------------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    run: Callable[["GenerationContext"], None]


@dataclass
class GenerationContext:
    persons_total: int
    seed: int
    units: int
    loader: Loader
    echo: Callable[[str], None]
    orgs: list = field(default_factory=list)
    org_by_id: dict = field(default_factory=dict)
    province: Optional[OrgRow] = None
    mid_org: Optional[OrgRow] = None
    persons: PersonTable = field(default_factory=PersonTable)
    #: ids of the persons who registered and wait for review (the newest)
    pending_count: int = 0
    series: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)
    password_hash: str = ""
    province_admin: Optional[str] = None
    mid_admin: Optional[str] = None
    #: admin account id per organisation (submitters of change requests)
    admin_of_org: dict = field(default_factory=dict)
    #: ID numbers already in the database (demo world), never generated again
    taken_ids: set = field(default_factory=set)
    timings: dict = field(default_factory=dict)
    _ids: Optional["IdNumbers"] = None

    def rng(self, name: str) -> random.Random:
        """A generator of its own per step (and per chunk), so steps never disturb each other."""
        return random.Random(f"{self.seed}:{name}")

    @property
    def ids(self) -> "IdNumbers":
        if self._ids is None:
            self._ids = IdNumbers(self.seed, self.taken_ids)
        return self._ids

    @property
    def employers(self) -> list:
        return [o for o in self.orgs if o.type == "employer" and o.status == "approved"]

    def subtree(self, org: OrgRow) -> list:
        return [o for o in self.orgs if o.path.startswith(org.path)]


class IdNumbers:
    """Unique, valid ID numbers: index i maps one-to-one onto (region, birth day, sequence number)."""

    def __init__(self, seed: int, taken: set):
        self.regions = ID_REGIONS
        self.days = [BIRTH_FIRST + datetime.timedelta(days=d) for d in range(BIRTH_DAYS)]
        self.space = len(self.regions) * BIRTH_DAYS * 1000
        rng = random.Random(f"{seed}:id_numbers")
        while True:
            a = rng.randrange(self.space // 3, self.space)
            if math.gcd(a, self.space) == 1:
                break
        self.a, self.b = a, rng.randrange(self.space)
        # the affine map walks each component linearly: shuffle each component's values as well
        # (a bijection composed with per-component permutations is still a bijection)
        self.regions = list(self.regions)
        rng.shuffle(self.regions)
        rng.shuffle(self.days)
        self.seqs = list(range(1000))
        rng.shuffle(self.seqs)
        self.taken = taken
        self._skip = 0

    def parts(self, i: int) -> tuple[str, datetime.date, int]:
        k = (self.a * i + self.b) % self.space
        nr = len(self.regions)
        q, r = divmod(k, nr)
        seq, d = divmod(q, BIRTH_DAYS)
        return self.regions[r], self.days[d], self.seqs[seq]

    def number(self, i: int) -> tuple[str, datetime.date, int]:
        """(ID number, birth date, sequence number) of index i; indices that hit a taken number move on."""
        region, birth, seq = self.parts(i)
        number = make_id_number(region, birth, seq)
        if number in self.taken:
            # a collision with the existing (demo) data: take an index from the far end, deterministically
            while True:
                self._skip += 1
                region, birth, seq = self.parts(self.space - self._skip)
                number = make_id_number(region, birth, seq)
                if number not in self.taken:
                    break
        return number, birth, seq

    def admin(self, j: int) -> str:
        """ID numbers for generated admin accounts: indices counted from the top of the space."""
        number, _, _ = self.number(self.space - 1_000_000 - j)
        return number


class NameMaker:
    def __init__(self):
        self.surnames = [s for s, _ in SURNAMES]
        self.cum = _cumulative([w for _, w in SURNAMES])
        self.total = self.cum[-1]

    def make(self, rng: random.Random, male: bool) -> str:
        surname = self.surnames[bisect.bisect(self.cum, rng.random() * self.total)]
        pool = MALE_GIVEN if male else FEMALE_GIVEN
        if rng.random() < 0.62:
            return surname + pool[int(rng.random() * len(pool))] + pool[int(rng.random() * len(pool))]
        return surname + pool[int(rng.random() * len(pool))]


def _mobile(rng: random.Random) -> str:
    return MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))] + f"{int(rng.random() * 1e8):08d}"


def _ts(dt: datetime.datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def _uscc(kind_prefix: str, region: str, n: int, seed: int) -> str:
    """A valid 统一社会信用代码 whose 9-character body encodes (seed, n): unique per organisation."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    value = (n * 1_000_003 + seed * 7_777_777) % 31 ** 9  # 1,000,003 is prime to 31: one code per n
    body = ""
    for _ in range(9):
        value, rem = divmod(value, 31)
        body = charset[rem] + body
    return make_uscc(kind_prefix + region + body)


# ----- step: reference rows the other steps need --------------------------------------------------


def step_reference(ctx: GenerationContext) -> None:
    from flask_appbuilder.security.sqla.models import Role

    from app.models import Account, Person, TitleLevel, TitleSeries
    from app.services.accounts import hash_password

    session = ctx.loader.session
    ctx.series = {s.name: s.id for s in session.scalars(select(TitleSeries))}
    ctx.levels = {lv.code: lv.id for lv in session.scalars(select(TitleLevel))}
    missing = set(NATIONAL_SERIES) - set(ctx.series)
    if missing or set(LEVEL_ORDER) - set(ctx.levels):
        raise RuntimeError("reference data missing: run `flask prepare --no-demo` first")
    ctx.roles = {r.name: r.id for r in session.scalars(select(Role))}
    ctx.taken_ids = set(session.scalars(select(Person.id_number))) | {
        n for n in session.scalars(select(Account.username))}
    ctx.password_hash = hash_password(BENCH_PASSWORD)


# ----- step: organisations -------------------------------------------------------------------------


def step_organisations(ctx: GenerationContext) -> None:
    from app.models import Organisation

    session = ctx.loader.session
    rng = ctx.rng("organisations")
    existing = {(o.parent_id, o.name): o for o in session.scalars(select(Organisation))}
    existing_uscc = set(session.scalars(select(Organisation.uscc).where(Organisation.uscc.is_not(None))))
    next_id = [ctx.loader.next_id("organisation")]
    uscc_n = [0]

    def add(org_type, name, parent: Optional[OrgRow], region, sector, status="approved") -> OrgRow:
        key = (parent.id if parent else None, name)
        if key in existing:
            o = existing[key]
            row = OrgRow(id=o.id, type=o.type.value, name=o.name, parent_id=o.parent_id, path=o.path,
                         depth=o.depth, region=o.region or region, sector=sector, status=o.status.value,
                         uscc=o.uscc, new=False)
        else:
            oid = next_id[0]
            next_id[0] += 1
            prefix = "11" if org_type in ("province", "supervisory") else "12"
            code = None
            while code is None or code in existing_uscc:
                uscc_n[0] += 1
                code = _uscc(prefix, _region_code(region), uscc_n[0], ctx.seed)
            row = OrgRow(id=oid, type=org_type, name=name, parent_id=parent.id if parent else None,
                         path=f"{parent.path if parent else '/'}{oid}/", depth=parent.depth + 1 if parent else 0,
                         region=region, sector=sector, status=status, uscc=code)
        ctx.orgs.append(row)
        ctx.org_by_id[row.id] = row
        return row

    province = next((o for o in existing.values() if o.type.value == "province"), None)
    if province is not None:
        ctx.province = add("province", province.name, None, "湖北省", "finance")
    else:
        ctx.province = add("province", "湖北省人力资源和社会保障厅", None, "湖北省", "finance")

    # supervisory departments: provincial, city bureaus, district bureaus
    supervisory: list[tuple[OrgRow, str]] = []  # (department, sector of its units)
    by_key = {}
    for key, name, own_sector, child_sector in PROVINCIAL_DEPARTMENTS:
        dept = add("supervisory", name, ctx.province, "湖北省", own_sector)
        by_key[key] = (dept, child_sector)
        supervisory.append((dept, own_sector))
    city_bureaus = {}
    for key, (suffix, count) in CITY_BUREAUS.items():
        parent, child_sector = by_key[key]
        for code, city, _ in HUBEI[:count]:
            short = "恩施州" if city.startswith("恩施") else city
            dept = add("supervisory", short + suffix, parent, "湖北省" + city, child_sector)
            city_bureaus[(key, code)] = dept
            supervisory.append((dept, child_sector))
    districts = {code: ds for code, _, ds in HUBEI}
    for key, city_code, suffix, count in DISTRICT_BUREAUS:
        parent = city_bureaus[(key, city_code)]
        for _, district in districts[city_code][:count]:
            dept = add("supervisory", district + suffix, parent,
                       "湖北省" + CITY_NAMES[city_code] + district, parent.sector)
            supervisory.append((dept, parent.sector))
    ctx.mid_org = next(o for o, _ in supervisory if o.name == MID_ORG_NAME)

    # units: spread over the departments, leaves and city level getting more
    has_children = {o.parent_id for o, _ in supervisory}
    weights = []
    for dept, sector in supervisory:
        w = 1.0 if dept.id not in has_children else 0.5
        if sector in ("health", "education"):
            w *= 1.5
        if dept.depth == 1 and sector == "higher_ed":
            w = 1.2
        weights.append(w)
    mid_subtree = {o.id for o, _ in supervisory if o.path.startswith(ctx.mid_org.path)}
    # every department below the mid-level one gets a unit or two first (employer + base)
    minimum = 2 if ctx.units >= 4 * len(mid_subtree) else 1 if ctx.units >= len(mid_subtree) else 0
    counts = _apportion(ctx.units - minimum * len(mid_subtree), weights)
    counts = [n + (minimum if dept.id in mid_subtree else 0) for (dept, _), n in zip(supervisory, counts)]
    used: dict[tuple[int, str], int] = {}
    units: list[OrgRow] = []
    for (dept, sector), n in zip(supervisory, counts):
        singles, multi = SECTOR_UNITS[sector]
        place = "" if sector == "higher_ed" and dept.depth == 1 else _place(dept)
        for i in range(n):
            is_base = i == 1 or (i > 2 and rng.random() < 0.08)
            if is_base:
                k = used.get((dept.id, "base"), 0) + 1
                used[(dept.id, "base")] = k
                name = (f"{place}{SECTOR_BASE[sector]}继续教育基地" if k == 1
                        else f"{place}{SECTOR_BASE[sector]}继续教育第{chinese_number(k)}培训中心")
                org_type = "training_base"
            else:
                k = used.get((dept.id, "unit"), 0)
                used[(dept.id, "unit")] = k + 1
                if k < len(singles):
                    name = place + singles[k]
                else:
                    m = k - len(singles)
                    pattern = multi[m % len(multi)]
                    name = place + pattern.format(cn=chinese_number(m // len(multi) + 2))
                org_type = "employer"
            # about 1 % of the units registered recently and wait for their department
            status = "pending" if i > 2 and rng.random() < 0.01 else "approved"
            unit = add(org_type, name, dept, dept.region, sector, status)
            if unit.type == "employer":
                # provincial hospitals and universities are the big employers
                big = 2.0 if dept.depth == 1 and sector in ("health", "higher_ed") else 1.0
                unit.weight = rng.lognormvariate(0, 0.6) * SECTOR_SIZE[sector] * big
            units.append(unit)
    # the mid-level department's subtree holds MID_SHARE of the persons
    employers = [u for u in units if u.type == "employer" and u.status == "approved"]
    inside = [u for u in employers if u.path.startswith(ctx.mid_org.path)]
    outside = [u for u in employers if not u.path.startswith(ctx.mid_org.path)]
    if inside and outside:
        w_in, w_out = sum(u.weight for u in inside), sum(u.weight for u in outside)
        for u in inside:
            u.weight *= MID_SHARE / w_in
        for u in outside:
            u.weight *= (1 - MID_SHARE) / w_out

    new = [o for o in ctx.orgs if o.new]
    contact = NameMaker()
    rows = []
    for o in new:
        rows.append((o.id, o.type, o.name, o.uscc, o.parent_id, o.path, o.depth, o.region,
                     contact.make(rng, rng.random() < 0.5), _mobile(rng), f"{o.region}{_street(rng)}",
                     o.status, _ts(BASE_TIME - datetime.timedelta(days=400 + rng.randrange(2000)))))
    # parents before children (ids ascending) keeps the self-referencing foreign key satisfied
    ctx.loader.insert("organisation", ["id", "type", "name", "uscc", "parent_id", "path", "depth", "region",
                                       "contact_person", "phone", "address", "status", "created_on"], rows)
    ctx.echo(f"  organisations: {len(new)} new ({sum(1 for o in new if o.type == 'supervisory')} supervisory, "
             f"{sum(1 for o in new if o.type == 'employer')} employer units, "
             f"{sum(1 for o in new if o.type == 'training_base')} training bases)")


def _region_code(region: str) -> str:
    for code, city, districts in HUBEI:
        for dcode, district in districts:
            if region.endswith(district):
                return dcode
        if region.endswith(city):
            return code
    return "420000"


def _place(dept: OrgRow) -> str:
    """Name prefix of a department's units: 湖北省, 武汉市, 武汉市武昌区."""
    return dept.region[3:] if dept.region.startswith("湖北省") and len(dept.region) > 3 else dept.region


def _street(rng: random.Random) -> str:
    road = rng.choice(["中北路", "解放大道", "东湖路", "武珞路", "沿江大道", "建设大道", "珞喻路", "民族大道",
                       "发展大道", "中山路", "人民路", "胜利街", "长江路", "青年路"])
    return f"{road}{rng.randrange(1, 500)}号"


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split total into integers proportional to weights (largest remainders)."""
    s = sum(weights)
    exact = [total * w / s for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# ----- step: internal departments ------------------------------------------------------------------


def step_departments(ctx: GenerationContext) -> None:
    from app.models import InternalDepartment

    session = ctx.loader.session
    rng = ctx.rng("departments")
    existing: dict[int, dict[str, int]] = {}
    for d in session.scalars(select(InternalDepartment)):
        existing.setdefault(d.organisation_id, {})[d.name] = d.id
    next_id = ctx.loader.next_id("internal_department")
    rows = []
    for o in ctx.orgs:
        have = existing.get(o.id, {})
        o.departments = list(have.values())
        if o.type == "province":
            continue
        if o.type == "supervisory":
            pool, n = SUPERVISORY_DEPARTMENTS, rng.randint(2, 4)
        elif o.type == "training_base":
            pool, n = BASE_DEPARTMENTS, rng.randint(1, 3)
        else:
            pool = SECTOR_DEPARTMENTS.get(o.sector, GENERIC_DEPARTMENTS)
            n = rng.randint(2, min(6, len(pool)))
        for name in rng.sample(pool, n):
            if name in have:
                continue
            rows.append((next_id, o.id, name))
            o.departments.append(next_id)
            next_id += 1
    ctx.loader.insert("internal_department", ["id", "organisation_id", "name"], rows)
    ctx.echo(f"  internal departments: {len(rows)}")


# ----- step: admin accounts ------------------------------------------------------------------------

ACCOUNT_COLUMNS = ["id", "first_name", "last_name", "username", "password", "active", "email", "login_count",
                   "fail_login_count", "created_on", "changed_on", "id_number", "real_name", "phone",
                   "organisation_id", "internal_department_id", "user_type", "is_super_admin",
                   "must_change_password"]


def _account_row(ctx, account_id, id_number, name, phone, org_id, user_type, super_admin, active, created):
    return (account_id, name, "", id_number, ctx.password_hash, 1 if active else 0,
            f"{id_number}@accounts.invalid", 0, 0, created, created, id_number, name, phone, org_id, None,
            user_type, 1 if super_admin else 0, 0)


def step_admins(ctx: GenerationContext) -> None:
    from app.models import Account
    from app.roles import EMPLOYER, PROVINCE, SUPERVISORY, TRAINING_BASE

    session = ctx.loader.session
    rng = ctx.rng("admins")
    names = NameMaker()
    have_super = set(session.scalars(select(Account.organisation_id).where(Account.is_super_admin.is_(True))))
    account_id = ctx.loader.next_id("ab_user")
    link_id = ctx.loader.next_id("ab_user_role")
    role_of = {"province": PROVINCE, "supervisory": SUPERVISORY, "employer": EMPLOYER,
               "training_base": TRAINING_BASE}
    user_type_of = {"province": "supervisory", "supervisory": "supervisory", "employer": "employer",
                    "training_base": "training_base"}
    accounts, links = [], []
    j = 0

    def add(org: OrgRow, super_admin: bool) -> str:
        nonlocal account_id, link_id, j
        id_number = ctx.ids.admin(j)
        j += 1
        created = _ts(BASE_TIME - datetime.timedelta(days=300 + rng.randrange(900)))
        # a unit that registered recently has an inactive admin until its department approves it
        active = org.status == "approved"
        accounts.append(_account_row(ctx, account_id, id_number, names.make(rng, rng.random() < 0.5), _mobile(rng),
                                     org.id, user_type_of[org.type], super_admin, active, created))
        links.append((link_id, account_id, ctx.roles[role_of[org.type]]))
        ctx.admin_of_org.setdefault(org.id, account_id)
        account_id += 1
        link_id += 1
        return id_number

    # the two benchmark admins first, so their ID numbers do not depend on the number of units
    ctx.province_admin = add(ctx.province, ctx.province.id not in have_super)
    have_super.add(ctx.province.id)
    ctx.mid_admin = add(ctx.mid_org, ctx.mid_org.id not in have_super)
    have_super.add(ctx.mid_org.id)
    for org in ctx.orgs:
        if org.new and org.id not in have_super:
            add(org, True)
            have_super.add(org.id)
    ctx.loader.insert("ab_user", ACCOUNT_COLUMNS, accounts)
    ctx.loader.insert("ab_user_role", ["id", "user_id", "role_id"], links)
    ctx.echo(f"  admin accounts: {len(accounts)}")


# ----- step: persons -------------------------------------------------------------------------------

PERSON_COLUMNS = ["id", "id_number", "name", "gender", "birth_date", "phone", "education", "employer_id", "org_path",
                  "internal_department_id", "title_series_id", "title_level_id", "title_name", "title_date",
                  "status", "account_id", "created_on"]
CHUNK = 10_000


class PersonFactory:
    """Everything needed to draw one person fast (precomputed tables, bisect on cumulative weights)."""

    def __init__(self, ctx: GenerationContext):
        self.ctx = ctx
        self.names = NameMaker()
        self.employers = ctx.employers
        self.emp_cum = _cumulative([e.weight for e in self.employers])
        self.emp_total = self.emp_cum[-1]
        self.mid_employers = [e for e in self.employers if e.path.startswith(ctx.mid_org.path)]
        self.mid_cum = _cumulative([e.weight for e in self.mid_employers])
        series_names = list(NATIONAL_SERIES)
        self.nat = [ctx.series[s] for s in series_names]
        self.nat_names = series_names
        self.nat_cum = _cumulative(list(NATIONAL_SERIES.values()))
        self.sector = {}
        for sector, weights in SECTOR_SERIES.items():
            names = list(weights)
            self.sector[sector] = (names, _cumulative(list(weights.values())))
        self.levels = [(code, ctx.levels.get(code) if code else None) for code, _ in LEVEL_WEIGHTS]
        self.level_cum = _cumulative([w for _, w in LEVEL_WEIGHTS])
        self.edu = [c for c, _ in EDUCATION_WEIGHTS]
        self.edu_cum = _cumulative([w for _, w in EDUCATION_WEIGHTS])
        self.level_index = {code: i for i, code in enumerate(LEVEL_ORDER)}

    def draw(self, rng: random.Random, index: int, person_id: int, status: str, employer: OrgRow,
             account_id=None) -> tuple:
        number, birth, seq = self.ctx.ids.number(index)
        male = seq % 2 == 1
        r = rng.random
        if r() < 0.85:
            names, cum = self.sector[employer.sector]
            series = names[bisect.bisect(cum, r() * cum[-1])]
        else:
            series = self.nat_names[bisect.bisect(self.nat_cum, r() * self.nat_cum[-1])]
        level_code, level_id = self.levels[bisect.bisect(self.level_cum, r() * self.level_cum[-1])]
        if level_code is None:
            title_name = title_date = None
        else:
            title_name = TITLE_NAMES[series][self.level_index[level_code]]
            year = min(2025, birth.year + 23 + int(r() * 18))
            title_date = f"{year}-{1 + int(r() * 12):02d}-{1 + int(r() * 28):02d}"
        depts = employer.departments
        dept = depts[int(r() * len(depts))] if depts and r() < 0.9 else None
        created = BASE_TIME - datetime.timedelta(seconds=int(r() * 86400 * 1500))
        return (person_id, number, self.names.make(rng, male), "male" if male else "female", birth.isoformat(),
                _mobile(rng), self.edu[bisect.bisect(self.edu_cum, r() * self.edu_cum[-1])], employer.id,
                employer.path, dept,
                self.ctx.series[series], level_id, title_name, title_date, status, account_id, _ts(created))

    def employer(self, rng: random.Random, mid_only: bool = False) -> OrgRow:
        if mid_only:
            return self.mid_employers[bisect.bisect(self.mid_cum, rng.random() * self.mid_cum[-1])]
        return self.employers[bisect.bisect(self.emp_cum, rng.random() * self.emp_total)]


def _pending_registrations(total: int) -> int:
    """How many of the persons are recent registrations awaiting review."""
    return min(max(1200, total // 500), total // 5)


def step_persons(ctx: GenerationContext) -> None:
    """The bulk: registered persons (98 % active, 2 % left), in chunks with their own generator."""
    factory = PersonFactory(ctx)
    ctx._factory = factory
    ctx.pending_count = _pending_registrations(ctx.persons_total)
    bulk = ctx.persons_total - ctx.pending_count
    first_id = ctx.loader.next_id("person")
    table = ctx.persons
    table.first_id, table.count = first_id, 0
    # a few active persons propose a title change (person_change requests)
    rng = ctx.rng("person_changes:pick")
    change_count = min(max(20, ctx.persons_total // 2000), max(1, bulk // 10))
    ctx._change_ids = set(rng.sample(range(bulk), change_count)) if bulk else set()
    ctx._change_rows = []
    started = time.perf_counter()

    def rows() -> Iterator[tuple]:
        for chunk_start in range(0, bulk, CHUNK):
            crng = ctx.rng(f"persons:{chunk_start // CHUNK}")
            for i in range(chunk_start, min(bulk, chunk_start + CHUNK)):
                employer = factory.employer(crng)
                status = "left" if crng.random() < 0.02 else "active"
                row = factory.draw(crng, i, first_id + i, status, employer)
                table.employer_id.append(employer.id)
                table.status.append(0 if status == "active" else 1)
                if i in ctx._change_ids and status == "active":
                    ctx._change_rows.append(row)
                yield row
            done = min(bulk, chunk_start + CHUNK)
            if done % 100_000 == 0 or done == bulk:
                ctx.echo(f"  persons: {done:,} ({time.perf_counter() - started:.1f} s)")

    table.count = ctx.loader.insert("person", PERSON_COLUMNS, rows())


# ----- step: pending registrations -----------------------------------------------------------------

REVIEW_COLUMNS = ["id", "kind", "subject_id", "subject_name", "subject_code", "org_id", "before", "after",
                  "status", "submitted_by_id", "submitted_on"]
AUDIT_COLUMNS = ["id", "actor_id", "action", "object_type", "object_id", "org_path", "from_state", "to_state",
                 "ip", "created_on"]


def step_registrations(ctx: GenerationContext) -> None:
    """The newest persons registered themselves: pending person, inactive login, pending request."""
    from app.roles import PERSONNEL

    factory: PersonFactory = ctx._factory
    rng = ctx.rng("registrations")
    n = ctx.pending_count
    bulk = ctx.persons_total - n
    first_person = ctx.persons.first_id + ctx.persons.count
    account_id = ctx.loader.next_id("ab_user")
    link_id = ctx.loader.next_id("ab_user_role")
    request_id = ctx.loader.next_id("review_request")
    audit_id = ctx.loader.next_id("audit_log")
    persons, accounts, links, requests, audits = [], [], [], [], []
    mid_pending = min(MID_PENDING, n)
    for j in range(n):
        employer = factory.employer(rng, mid_only=j < mid_pending)
        submitted = BASE_TIME - datetime.timedelta(seconds=rng.randrange(86400 * 60))
        person = factory.draw(rng, bulk + j, first_person + j, "pending", employer, account_id + j)
        persons.append(person)
        pid, number, name, phone = person[0], person[1], person[2], person[5]
        accounts.append(_account_row(ctx, account_id + j, number, name, phone, employer.id, "personnel", False,
                                     False, _ts(submitted)))
        links.append((link_id + j, account_id + j, ctx.roles[PERSONNEL]))
        requests.append((request_id + j, "person_registration", pid, name, number, employer.id, None, None,
                         "pending", account_id + j, _ts(submitted)))
        audits.append((audit_id + j, account_id + j, "submit", "review_request", request_id + j, employer.path,
                       None, "pending", None, _ts(submitted)))
        ctx.persons.employer_id.append(employer.id)
        ctx.persons.status.append(2)
    ctx.loader.insert("ab_user", ACCOUNT_COLUMNS, accounts)
    ctx.loader.insert("ab_user_role", ["id", "user_id", "role_id"], links)
    ctx.persons.count += ctx.loader.insert("person", PERSON_COLUMNS, persons)
    ctx.loader.insert("review_request", REVIEW_COLUMNS, requests)
    ctx.loader.insert("audit_log", AUDIT_COLUMNS, audits)
    ctx.echo(f"  pending registrations: {n} ({mid_pending} below {ctx.mid_org.name})")


# ----- step: pending changes -----------------------------------------------------------------------


def step_changes(ctx: GenerationContext) -> None:
    """Pending person_change requests (a promotion) and the registrations of the pending units."""
    rng = ctx.rng("changes")
    request_id = ctx.loader.next_id("review_request")
    audit_id = ctx.loader.next_id("audit_log")
    level_ids = [ctx.levels[c] for c in LEVEL_ORDER]
    requests, audits = [], []
    for row in sorted(ctx._change_rows):
        pid, number, name, employer_id = row[0], row[1], row[2], row[7]
        level_id, title_name, title_date = row[11], row[12], row[13]
        series_id = row[10]
        series_name = next(s for s, i in ctx.series.items() if i == series_id)
        index = level_ids.index(level_id) if level_id in level_ids else len(level_ids)
        new_index = max(0, index - 1)
        new_date = f"{2025}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        before = {"title_date": title_date, "title_level_id": level_id, "title_name": title_name,
                  "title_series_id": series_id}
        after = {"title_date": new_date, "title_level_id": level_ids[new_index],
                 "title_name": TITLE_NAMES[series_name][new_index], "title_series_id": series_id}
        submitted = _ts(BASE_TIME - datetime.timedelta(seconds=rng.randrange(86400 * 30)))
        employer = ctx.org_by_id[employer_id]
        submitter = ctx.admin_of_org.get(employer_id)
        requests.append((request_id, "person_change", pid, name, number, employer_id,
                         json.dumps(before, ensure_ascii=False, sort_keys=True),
                         json.dumps(after, ensure_ascii=False, sort_keys=True), "pending", submitter, submitted))
        audits.append((audit_id, submitter, "submit", "review_request", request_id, employer.path, None,
                       "pending", None, submitted))
        request_id += 1
        audit_id += 1
    units = 0
    for org in ctx.orgs:
        if org.new and org.status == "pending" and org.type in ("employer", "training_base"):
            kind = "unit_registration" if org.type == "employer" else "base_registration"
            submitted = _ts(BASE_TIME - datetime.timedelta(seconds=rng.randrange(86400 * 30)))
            submitter = ctx.admin_of_org.get(org.id)
            requests.append((request_id, kind, org.id, org.name, org.uscc, org.id, None, None, "pending",
                             submitter, submitted))
            audits.append((audit_id, submitter, "submit", "review_request", request_id, org.path, None,
                           "pending", None, submitted))
            request_id += 1
            audit_id += 1
            units += 1
    ctx.loader.insert("review_request", REVIEW_COLUMNS, requests)
    ctx.loader.insert("audit_log", AUDIT_COLUMNS, audits)
    ctx.echo(f"  pending changes: {len(requests) - units} person changes, {units} unit registrations")


#: the generator's steps, in order; later tables add theirs with register_step
STEPS: list[Step] = [
    Step("reference", step_reference),
    Step("organisations", step_organisations),
    Step("departments", step_departments),
    Step("admins", step_admins),
    Step("persons", step_persons),
    Step("registrations", step_registrations),
    Step("changes", step_changes),
]


def register_step(step: Step, after: Optional[str] = None) -> None:
    """Add (or replace) a generator step, after a named one or at the end."""
    STEPS[:] = [s for s in STEPS if s.name != step.name]
    if after is None:
        STEPS.append(step)
        return
    index = next(i for i, s in enumerate(STEPS) if s.name == after)
    STEPS.insert(index + 1, step)


def _register_feature_steps() -> None:
    """Later tables' steps, each module registering its own (imported here, after the helpers they use)."""
    from app.scale import credit, plans

    plans.register()
    credit.register()
    # keep last: certificates are issued for the verifications the steps before wrote
    from app.scale import certificates

    certificates.register()
    # keep last: the statistics aggregates are rebuilt from what every other step loaded
    from app.scale import statistics

    statistics.register()


# ---------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------


@dataclass
class ScaleInfo:
    persons: int
    seed: int
    units: int
    version: int
    province_admin: str
    mid_admin: str
    mid_org_id: int
    password: str = BENCH_PASSWORD
    seconds: float = 0.0
    reused: bool = False
    timings: dict = field(default_factory=dict)

    def matches(self, persons: int, seed: int, units: int) -> bool:
        return (self.persons, self.seed, self.units, self.version) == (persons, seed, units, GENERATOR_VERSION)


def read_marker(session=None) -> Optional[ScaleInfo]:
    """What seed-scale loaded into this database (None if nothing)."""
    from app.models import AuditLog

    session = session or db.session
    row = session.scalars(
        select(AuditLog).where(AuditLog.action == MARKER_ACTION, AuditLog.object_type == MARKER_OBJECT)
        .order_by(AuditLog.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    data = json.loads(row.after or "{}")
    return ScaleInfo(persons=data["persons"], seed=data["seed"], units=data["units"], version=data["version"],
                     province_admin=data["province_admin"], mid_admin=data["mid_admin"],
                     mid_org_id=data["mid_org_id"], seconds=data.get("seconds", 0.0),
                     timings=data.get("timings", {}))


def reset_database() -> None:
    """Drop every table and rebuild an empty product database (migrations, reference data, roles)."""
    from flask_appbuilder import Model

    from app.cli import prepare_database

    engine = db.engine
    db.session.remove()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        import app.models  # noqa: F401

        Model.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    prepare_database(seed_demo_data=False)


def seed_scale(persons: int, seed: int = 1, units: int = 2000, replace: bool = False,
               echo: Callable[[str], None] = print, analyze: bool = True) -> ScaleInfo:
    """Generate the scale world into the current app's database (in one transaction), or re-use it."""
    if persons < 10:
        raise ValueError("at least 10 persons")
    marker = read_marker()
    if marker is not None:
        if marker.matches(persons, seed, units):
            marker.reused = True
            echo(f"database already holds {persons:,} persons (seed {seed}, {units} units): re-used")
            return marker
        if not replace:
            raise RuntimeError(
                f"database already holds a scale load of {marker.persons:,} persons (seed {marker.seed}, "
                f"{marker.units} units); use --replace to wipe it")
        echo("wiping the database (different scale load)")
        reset_database()
    started = time.perf_counter()
    loader = Loader(db.session, echo)
    ctx = GenerationContext(persons_total=persons, seed=seed, units=units, loader=loader, echo=echo)
    with transaction():
        for step in STEPS:
            t0 = time.perf_counter()
            step.run(ctx)
            ctx.timings[step.name] = round(time.perf_counter() - t0, 2)
        loader.finish()
        seconds = round(time.perf_counter() - started, 1)
        info = ScaleInfo(persons=persons, seed=seed, units=units, version=GENERATOR_VERSION,
                         province_admin=ctx.province_admin, mid_admin=ctx.mid_admin, mid_org_id=ctx.mid_org.id,
                         seconds=seconds, timings=dict(ctx.timings))
        _write_marker(info)
    if analyze:
        t0 = time.perf_counter()
        loader.analyze()
        info.timings["vacuum_analyze"] = round(time.perf_counter() - t0, 1)
        echo(f"  vacuum/analyze: {info.timings['vacuum_analyze']} s")
    info.seconds = round(time.perf_counter() - started, 1)
    return info


def _write_marker(info: ScaleInfo) -> None:
    from app.models import AuditLog

    data = {"persons": info.persons, "seed": info.seed, "units": info.units, "version": info.version,
            "province_admin": info.province_admin, "mid_admin": info.mid_admin, "mid_org_id": info.mid_org_id,
            "seconds": info.seconds, "timings": info.timings}
    db.session.add(AuditLog(action=MARKER_ACTION, object_type=MARKER_OBJECT, after=json.dumps(data),
                            comment=f"seed-scale: {info.persons} persons, seed {info.seed}",
                            created_on=datetime.datetime.now()))


def count_rows() -> dict:
    """Row counts of the generated tables (for the report)."""
    from app.models import (Account, CreditRecord, CreditSummary, InternalDepartment, Organisation, Person,
                            ReviewRequest, TrainingPlan, TrainingProgramme, Transfer, WorkMaterial, WorkSummary)

    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in (
        ("organisation", Organisation), ("internal_department", InternalDepartment), ("ab_user", Account),
        ("person", Person), ("review_request", ReviewRequest), ("training_plan", TrainingPlan),
        ("training_programme", TrainingProgramme), ("work_summary", WorkSummary), ("transfer", Transfer),
        ("work_material", WorkMaterial), ("credit_record", CreditRecord), ("credit_summary", CreditSummary))}


_register_feature_steps()
