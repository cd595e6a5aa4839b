"""Synthetic CRM data for demos, tests and benchmarks.

``generate()`` returns the six canonical tables of :mod:`reporting.schema` for a made-up
B2B software company: 4 regions x 3 teams (two high-volume "velocity" teams and one
"Enterprise" team per region), three years of deals ending at ``end``, the leads they came
from, the accounts they were won with and the revenue those accounts produced afterwards.

The data is realistic enough for the monthly report to be meaningful (seasonality, quarter-end
hockey sticks, stage drop-out, rep-level variation in win rates, cycles and volume) and it
contains five *planted* behaviours, each on one named rep (see :data:`PLANTED`), that simple
metrics comparing a rep with their team should surface.

Conventions:

* ``end`` is the as-of moment: every timestamp is ``<= pandas.Timestamp(end)`` (midnight at
  the start of ``end``); deals not closed by then are ``open`` with no ``closed_at``.
* Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so the same
  ``(seed, scale, end)`` always gives identical frames.
* The opportunity-level work is vectorised with numpy; Python loops only run over reps,
  teams and regions. ``scale=50`` (about a million opportunities) takes a few seconds.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pandas as pd

from reporting.schema import REVENUE_KINDS, TABLES, empty_frame

__all__ = ["PLANTED", "REGIONS", "SEGMENTS", "STAGES", "SOURCES", "generate"]

REGIONS: tuple[str, ...] = ("EMEA", "North America", "APAC", "LATAM")
SEGMENTS: tuple[str, ...] = ("Inside", "Mid-Market", "Enterprise")
STAGES: tuple[str, ...] = (
    "Qualification",
    "Discovery",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
)
SOURCES: tuple[str, ...] = ("Inbound", "Outbound", "Partner", "Referral", "Event")
INDUSTRIES: tuple[str, ...] = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Logistics",
    "Media",
)

#: behaviour -> the rep who shows it (fixed names, independent of the seed).
PLANTED: dict[str, str] = {
    "many_deals_long_cycles": "Dana Whitfield",
    "bloated_stale_pipeline": "Marco Bellini",
    "mostly_small_deals": "Priya Raman",
    "won_customers_churn_fast": "Camila Reyes",
    "expanding_account_manager": "Amara Okafor",
}

# Team of each planted rep: EMEA and North America each tell two stories, LATAM one and
# APAC none (a control region).
_PLANTED_TEAM: dict[str, tuple[str, str]] = {
    "many_deals_long_cycles": ("EMEA", "Mid-Market"),
    "bloated_stale_pipeline": ("EMEA", "Inside"),
    "mostly_small_deals": ("North America", "Mid-Market"),
    "won_customers_churn_fast": ("LATAM", "Inside"),
    "expanding_account_manager": ("North America", "Enterprise"),
}

# Reps per team at scale 1 (42 in all); teams never shrink below 3 reps.
_TEAM_SIZE: dict[tuple[str, str], int] = {
    ("EMEA", "Inside"): 4,
    ("EMEA", "Mid-Market"): 4,
    ("EMEA", "Enterprise"): 3,
    ("North America", "Inside"): 4,
    ("North America", "Mid-Market"): 4,
    ("North America", "Enterprise"): 4,
    ("APAC", "Inside"): 3,
    ("APAC", "Mid-Market"): 4,
    ("APAC", "Enterprise"): 3,
    ("LATAM", "Inside"): 3,
    ("LATAM", "Mid-Market"): 3,
    ("LATAM", "Enterprise"): 3,
}
# Designated account managers (taken from the Enterprise team) per region.
_N_ACCOUNT_MANAGERS = {"EMEA": 3, "North America": 3, "APAC": 2, "LATAM": 2}

_OPPS_PER_SCALE = 20_000  # opportunities over the three years at scale 1

# --- per-segment parameters (index 0 Inside, 1 Mid-Market, 2 Enterprise) ----------------
_THROUGHPUT = np.array([1.2, 0.9, 0.22])  # relative deals per rep
_CYCLE_MEDIAN = np.array([17.0, 30.0, 125.0])  # days, won deals
_CYCLE_SIGMA = np.array([0.42, 0.42, 0.38])
_AMOUNT_MEDIAN = np.array([1_800.0, 4_200.0, 95_000.0])
_AMOUNT_SIGMA = np.array([0.5, 0.5, 0.6])
_AMOUNT_ROUND = np.array([10.0, 10.0, 500.0])
_AMOUNT_MIN = np.array([50.0, 50.0, 5_000.0])
_ACCOUNT_DEALS = np.array([1.35, 1.5, 2.4])  # deals per account (before skew)
_LAST_ACTIVITY_GAP = np.array([1.0, 1.5, 3.0])  # days between last activity and close
_OPEN_ACTIVITY_GAP = np.array([4.0, 5.0, 9.0])  # days since last activity, open deals
_LEAD_LAG = np.array([6.0, 9.0, 20.0])  # mean days from lead to opportunity

_SOURCE_MIX = np.array(
    [
        [0.42, 0.22, 0.10, 0.10, 0.16],
        [0.35, 0.28, 0.12, 0.12, 0.13],
        [0.12, 0.36, 0.20, 0.18, 0.14],
    ]
)
_SOURCE_WIN = np.array([1.10, 0.60, 1.25, 1.55, 0.85])
# Source mix of leads that never became an opportunity (cold channels convert less).
_LEAD_SOURCE_MIX = np.array(
    [
        [0.30, 0.35, 0.06, 0.04, 0.25],
        [0.28, 0.38, 0.07, 0.05, 0.22],
        [0.10, 0.45, 0.12, 0.08, 0.25],
    ]
)
_LEAD_RATE = np.array([0.97, 0.72, 0.85, 0.90, 0.95])  # share of opps from a lead, by source
# Stage at which lost deals drop out (Qualification, Discovery, Proposal, Negotiation).
_LOST_STAGE = np.array(
    [
        [0.38, 0.30, 0.20, 0.12],
        [0.36, 0.30, 0.21, 0.13],
        [0.28, 0.30, 0.26, 0.16],
    ]
)
_STAGE_SHAPE = np.array([2.0, 3.0, 3.0, 2.0])  # Dirichlet split of a won cycle

_PRODUCTS = (
    ("Starter Plan", "Team Plan", "Analytics Add-on", "Onboarding Package", "Support Plus"),
    ("Starter Plan", "Team Plan", "Analytics Add-on", "Onboarding Package", "Support Plus"),
    (
        "Enterprise Platform",
        "Data Cloud",
        "Security Suite",
        "Integration Hub",
        "Professional Services",
    ),
)
_PRODUCT_MIX = np.array(
    [
        [0.35, 0.30, 0.15, 0.10, 0.10],
        [0.15, 0.40, 0.20, 0.15, 0.10],
        [0.30, 0.25, 0.20, 0.15, 0.10],
    ]
)
_PRODUCT_PRICE = np.array(
    [
        [0.6, 1.0, 0.8, 0.7, 0.5],
        [0.6, 1.0, 0.8, 0.7, 0.5],
        [1.4, 1.0, 0.9, 0.7, 0.5],
    ]
)

_MONTH_FACTOR = np.array([0.90, 0.95, 1.10, 0.95, 1.00, 1.10, 0.90, 0.70, 1.10, 1.10, 1.15, 0.75])


# --- names ------------------------------------------------------------------------------
def _split(text: str) -> tuple[str, ...]:
    """``"a, b c, d"`` -> ``("a", "b c", "d")`` (names may contain spaces)."""
    return tuple(x.strip() for x in text.split(","))


_CULTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # first names, last names
    "english": (
        _split(
            "James, Emily, Michael, Sarah, David, Jessica, Daniel, Laura, Matthew, Rachel, Andrew, "
            "Hannah, Ryan, Megan, Thomas, Olivia"
        ),
        _split(
            "Carter, Brooks, Hughes, Bennett, Sullivan, Parker, Morgan, Foster, Reed, Hayes, "
            "Mitchell, Palmer, Barnes, Turner, Collins, Ward"
        ),
    ),
    "hispanic": (
        _split(
            "Alejandro, Sofía, Javier, Valentina, Mateo, Lucía, Diego, Isabela, Carlos, Gabriela, "
            "Andrés, Mariana, Santiago, Paula, Emilio, Daniela"
        ),
        _split(
            "García, Martínez, Rodríguez, López, Hernández, Gómez, Díaz, Torres, Ramírez, Flores, "
            "Vargas, Castillo, Morales, Ortega, Navarro, Rojas"
        ),
    ),
    "brazilian": (
        _split(
            "João, Ana, Pedro, Beatriz, Rafael, Larissa, Thiago, Fernanda, Gustavo, Juliana, "
            "Bruno, Camila, Felipe, Renata, Leonardo, Aline"
        ),
        _split(
            "Silva, Santos, Oliveira, Souza, Costa, Pereira, Almeida, Ferreira, Carvalho, Ribeiro, "
            "Barbosa, Rocha, Lima, Moreira, Cardoso, Teixeira"
        ),
    ),
    "german": (
        _split(
            "Lukas, Anna, Felix, Lena, Jonas, Katharina, Tobias, Julia, Maximilian, Sophie, "
            "Florian, Miriam, Stefan, Johanna, Niklas, Clara"
        ),
        _split(
            "Müller, Schmidt, Schneider, Fischer, Weber, Becker, Hoffmann, Wagner, Krüger, Braun, "
            "Zimmermann, Hartmann, Lange, Vogel, Keller, Frank"
        ),
    ),
    "french": (
        _split(
            "Louis, Camille, Hugo, Chloé, Antoine, Manon, Julien, Élise, Nicolas, Margaux, Théo, "
            "Inès, Mathieu, Léa, Pierre, Amélie"
        ),
        _split(
            "Martin, Bernard, Dubois, Moreau, Laurent, Girard, Lefèvre, Roux, Fontaine, Chevalier, "
            "Blanc, Garnier, Faure, Rousseau, Mercier, Lambert"
        ),
    ),
    "italian": (
        _split(
            "Luca, Giulia, Matteo, Francesca, Alessandro, Chiara, Lorenzo, Martina, Davide, Elena, "
            "Federico, Sara, Giorgio, Alessia, Riccardo, Valeria"
        ),
        _split(
            "Rossi, Russo, Ferrari, Esposito, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo, "
            "Conti, De Luca, Costa, Giordano, Mancini"
        ),
    ),
    "dutch": (
        _split(
            "Daan, Sanne, Bram, Femke, Sem, Lotte, Thijs, Anouk, Ruben, Eva, Jesse, Iris, Lars, "
            "Noor, Koen, Fleur"
        ),
        _split(
            "de Jong, Jansen, de Vries, van Dijk, Bakker, Visser, Smit, Meijer, de Boer, Mulder, "
            "Bos, Vos, Peters, Hendriks, Dekker, van Leeuwen"
        ),
    ),
    "nordic": (
        _split(
            "Erik, Ingrid, Magnus, Astrid, Oskar, Freja, Nils, Sigrid, Henrik, Maja, Anders, Elin, "
            "Johan, Linnea, Mikkel, Karin"
        ),
        _split(
            "Johansson, Andersson, Nilsson, Larsen, Hansen, Lindqvist, Berg, Eriksson, Nielsen, "
            "Halvorsen, Lund, Dahl, Sandberg, Holm, Strand, Nyström"
        ),
    ),
    "polish": (
        _split(
            "Piotr, Katarzyna, Tomasz, Agnieszka, Marek, Magdalena, Krzysztof, Joanna, Paweł, "
            "Aleksandra, Michał, Natalia, Jakub, Zofia, Adam, Ewa"
        ),
        _split(
            "Nowak, Kowalski, Wiśniewski, Wójcik, Kamiński, Lewandowski, Zieliński, Szymański, "
            "Woźniak, Dąbrowski, Kozłowski, Mazur, Krawczyk, Piotrowski, Grabowski, Pawlak"
        ),
    ),
    "arabic": (
        _split(
            "Omar, Layla, Youssef, Nour, Karim, Yasmin, Hassan, Mariam, Tariq, Salma, Khalid, "
            "Rania, Samir, Dina, Fadi, Hana"
        ),
        _split(
            "Haddad, Khoury, Mansour, Nasser, Saleh, Aziz, Farouk, Hamdan, Rahman, Sabbagh, "
            "Younes, Qureshi, Barakat, Darwish, Jaber, Karam"
        ),
    ),
    "west_african": (
        _split(
            "Chinedu, Amara, Oluwaseun, Ngozi, Kwame, Adaeze, Emeka, Folake, Tunde, Chioma, Kofi, "
            "Abena, Ifeanyi, Yewande, Segun, Efua"
        ),
        _split(
            "Okafor, Adeyemi, Mensah, Okonkwo, Balogun, Osei, Eze, Adebayo, Nwosu, Boateng, Owusu, "
            "Afolabi, Obi, Asante, Ogunleye, Danso"
        ),
    ),
    "indian": (
        _split(
            "Arjun, Priya, Rohan, Ananya, Vikram, Kavya, Rahul, Sneha, Aditya, Meera, Karthik, "
            "Divya, Sanjay, Nisha, Amit, Pooja"
        ),
        _split(
            "Sharma, Patel, Iyer, Reddy, Nair, Gupta, Menon, Rao, Krishnan, Desai, Mehta, "
            "Kulkarni, Banerjee, Chopra, Joshi, Pillai"
        ),
    ),
    "chinese": (
        _split(
            "Wei, Mei, Jun, Xiaoling, Hao, Yan, Lei, Jing, Chen, Lin, Tao, Hui, Ming, Fang, Kai, "
            "Ying"
        ),
        _split(
            "Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Ma, Zhu, Hu, Guo"
        ),
    ),
    "japanese": (
        _split(
            "Haruto, Yui, Kenji, Sakura, Takeshi, Aiko, Daiki, Yuna, Hiroshi, Misaki, Ren, Haruka, "
            "Sota, Emi, Kaito, Naomi"
        ),
        _split(
            "Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Yamamoto, Nakamura, Kobayashi, Kato, "
            "Yoshida, Yamada, Sasaki, Matsumoto, Inoue, Kimura"
        ),
    ),
    "korean": (
        _split(
            "Min-jun, Seo-yeon, Ji-ho, Ha-eun, Do-yun, Ji-woo, Joon-young, Soo-ah, Hyun-woo, "
            "Eun-ji, Sung-min, Yuna, Tae-yang, Da-eun, Jae-won, Hye-jin"
        ),
        _split(
            "Kim, Lee, Park, Choi, Jung, Kang, Cho, Yoon, Jang, Lim, Han, Oh, Seo, Shin, Kwon, Song"
        ),
    ),
    "vietnamese": (
        _split(
            "Minh, Linh, Duc, Thao, Huy, Trang, Quang, Ngoc, Tuan, Lan, Bao, Hoa, Khanh, Mai, "
            "Long, Vy"
        ),
        _split(
            "Nguyen, Tran, Le, Pham, Hoang, Phan, Vu, Dang, Bui, Do, Ho, Ngo, Duong, Ly, Truong, "
            "Dinh"
        ),
    ),
}
_CULTURE_NAMES = tuple(_CULTURES)
_REGION_CULTURES: dict[str, dict[str, float]] = {
    "EMEA": {
        "english": 2.0,
        "german": 2.0,
        "french": 2.0,
        "italian": 1.5,
        "dutch": 1.0,
        "nordic": 1.0,
        "polish": 1.0,
        "arabic": 1.0,
        "west_african": 1.0,
        "indian": 0.5,
        "hispanic": 0.5,
    },
    "North America": {
        "english": 4.0,
        "hispanic": 1.5,
        "indian": 1.2,
        "chinese": 1.0,
        "korean": 0.5,
        "west_african": 0.5,
        "vietnamese": 0.5,
        "italian": 0.5,
        "german": 0.4,
        "french": 0.3,
        "arabic": 0.3,
        "japanese": 0.3,
    },
    "APAC": {
        "chinese": 2.0,
        "indian": 2.0,
        "japanese": 1.5,
        "english": 1.2,
        "korean": 1.0,
        "vietnamese": 1.0,
    },
    "LATAM": {"hispanic": 4.0, "brazilian": 3.0, "english": 0.4, "italian": 0.4, "german": 0.2},
}

_CO_PREFIX = _split(
    "North, Blue, Silver, Iron, Bright, Summit, Red, Green, Clear, Stone, Oak, Pine, River, Lake, "
    "Sun, Star, Apex, Nova, Vertex, Alpine, Harbor, Cedar, Falcon, Eagle, Coral, Granite, Maple, "
    "Atlas, Orion, Polar, Crystal, Golden, Swift, Prime, Urban, Quantum, Terra, Aero, Metro, "
    "Pacific"
)
_CO_ROOT = _split(
    "wind, field, gate, bridge, point, ridge, stone, wave, path, line, works, light, peak, view, "
    "way, core, sphere, port, dale, crest, vale, ford, mark, tech, scale, forge, spring, brook, "
    "haven, shore"
)
_CO_NOUN = (  # per industry, same order as INDUSTRIES
    ("Systems", "Software", "Labs", "Digital"),
    ("Capital", "Financial", "Partners", "Bank"),
    ("Health", "Medical", "Clinics", "Biotech"),
    ("Industries", "Manufacturing", "Components", "Fabrication"),
    ("Retail", "Stores", "Brands", "Outfitters"),
    ("Learning", "Academy", "Education", "Institute"),
    ("Logistics", "Freight", "Shipping", "Transport"),
    ("Media", "Studios", "Publishing", "Broadcasting"),
)
_CO_SUFFIX = {
    "EMEA": ("Ltd", "GmbH", "SA", "BV", "AB", "plc", ""),
    "North America": ("Inc.", "LLC", "Corp.", "", ""),
    "APAC": ("Pty Ltd", "Pte Ltd", "K.K.", "Ltd", ""),
    "LATAM": ("S.A.", "Ltda.", "S.A. de C.V.", ""),
}

_US_PER_DAY = 86_400 * 1_000_000


# ---------------------------------------------------------------------------------------
def _choice_by_group(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One categorical draw per row, with the probabilities of the row's group."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int64)
    for j in range(probs.shape[1] - 1):
        out += u >= cum[group, j]
    return out


def _labels(values) -> pd.api.extensions.ExtensionArray:
    """A pandas string array (the ``str`` dtype) of ``values``."""
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def _ids(prefix: str, n: int, width: int) -> pd.api.extensions.ExtensionArray:
    """``prefix`` + 1..n zero-padded to ``width`` digits (wider when n needs it)."""
    width = max(width, len(str(n)))
    nums = np.arange(1, n + 1).astype(np.dtypes.StringDType())
    return _labels(np.strings.add(prefix, np.strings.zfill(nums, width)).astype(object))


class _Namer:
    """Draws distinct, culturally plausible full names."""

    def __init__(self, rng: np.random.Generator, reserved: list[str]):
        self.rng = rng
        self.used: set[str] = set(reserved)
        self.pools: dict[str, list[str]] = {}
        for c in _CULTURE_NAMES:
            firsts, lasts = _CULTURES[c]
            combos = [f"{first} {last}" for first in firsts for last in lasts]
            order = rng.permutation(len(combos))
            self.pools[c] = [combos[i] for i in order]

    def draw(self, region: str) -> str:
        weights = _REGION_CULTURES[region]
        cultures = list(weights)
        p = np.array([weights[c] for c in cultures])
        for _ in range(200):
            live = np.array([len(self.pools[c]) > 0 for c in cultures])
            if live.any():
                q = p * live
                c = cultures[int(self.rng.choice(len(cultures), p=q / q.sum()))]
                name = self.pools[c].pop()
            else:  # all combinations used (very large scales): add a middle initial
                c = cultures[int(self.rng.choice(len(cultures), p=p / p.sum()))]
                firsts, lasts = _CULTURES[c]
                initial = chr(ord("A") + int(self.rng.integers(26)))
                name = (
                    f"{firsts[self.rng.integers(len(firsts))]} {initial}. "
                    f"{lasts[self.rng.integers(len(lasts))]}"
                )
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("could not draw a new name")  # pragma: no cover


def _calendar(start: pd.Timestamp, n_days: int) -> dict[str, np.ndarray]:
    dates = pd.date_range(start, periods=n_days, freq="D")
    month = dates.month.to_numpy()
    day = dates.day.to_numpy()
    year = dates.year.to_numpy()
    q = dates.to_period("Q")
    q_start = ((q.start_time - start).days).to_numpy()
    q_end = ((q.end_time.normalize() - start).days).to_numpy()
    idx = np.arange(n_days)
    holiday = ((month == 12) & (day >= 22)) | ((month == 1) & (day <= 2))
    tgt_year = np.where(month == 12, year + 1, year)
    jan3 = pd.to_datetime(pd.DataFrame({"year": tgt_year, "month": 1, "day": 3}))
    to_jan3 = (jan3 - dates).dt.days.to_numpy()
    return {
        "month": month,
        "weekday": dates.day_of_week.to_numpy(),
        "q_start": q_start,
        "to_q_end": q_end - idx,
        "holiday": holiday,
        "to_jan3": to_jan3,
    }


def _to_ts(start_us: int, days: np.ndarray) -> np.ndarray:
    """Float days since the window start -> datetime64[us] (NaN/inf -> NaT)."""
    days = np.asarray(days, dtype=float)
    ok = np.isfinite(days)
    us = np.full(days.shape, np.iinfo(np.int64).min, dtype=np.int64)
    us[ok] = start_us + np.round(days[ok] * _US_PER_DAY).astype(np.int64)
    return us.view("datetime64[us]")


def _frame(table: str, data: dict[str, object]) -> pd.DataFrame:
    cols = TABLES[table].columns
    assert list(data) == [c for c in cols if c in data], (table, list(data))
    frame = pd.DataFrame(data)
    blank = empty_frame(table)
    for c in cols:  # a column the generator does not fill yet: empty, with its dtype
        if c not in frame:
            frame[c] = pd.Series(index=frame.index, dtype=blank[c].dtype)
    return frame[cols]


# ---------------------------------------------------------------------------------------
def generate(
    seed: int = 7, scale: float = 1.0, end: _dt.date | None = None
) -> dict[str, pd.DataFrame]:
    """Generate the six canonical tables (see module docstring).

    ``scale`` multiplies opportunities, leads, accounts and revenue lines (about 20,000
    opportunities over three years at ``scale=1``) and the number of reps per team
    (linearly, at least 3 per team). ``end`` defaults to today's UTC date.
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    if end is None:
        end = _dt.datetime.now(_dt.UTC).date()
    if isinstance(end, _dt.datetime):
        end = end.date()
    rng = np.random.default_rng(seed)

    end_ts = pd.Timestamp(end)
    start_ts = end_ts - pd.DateOffset(years=3)
    D = int((end_ts - start_ts).days)  # all times are float days in [0, D]
    start_us = int(start_ts.value // 1000)
    cal_len = D + 2_500
    cal = _calendar(start_ts, cal_len)

    # ---- reps ----------------------------------------------------------------------------
    namer = _Namer(rng, list(PLANTED.values()))
    planted_at = {team: key for key, team in _PLANTED_TEAM.items()}
    rep_name: list[str] = []
    rep_seg: list[int] = []
    rep_region: list[int] = []
    rep_team: list[str] = []
    rep_manager: list[str] = []
    planted_idx: dict[str, int] = {}
    am_by_region: list[list[int]] = []
    for g, region in enumerate(REGIONS):
        for s, seg in enumerate(SEGMENTS):
            n_team = max(3, int(round(_TEAM_SIZE[(region, seg)] * scale)))
            names: list[str] = []
            key = planted_at.get((region, seg))
            if key is not None:
                planted_idx[key] = len(rep_name)
                names.append(PLANTED[key])
            names += [namer.draw(region) for _ in range(n_team - len(names))]
            managers = [namer.draw(region) for _ in range(math.ceil(n_team / 8))]
            if seg == "Enterprise":
                n_am = min(_N_ACCOUNT_MANAGERS[region], n_team)
                am_by_region.append(list(range(len(rep_name), len(rep_name) + n_am)))
            for j, nm in enumerate(names):
                rep_name.append(nm)
                rep_seg.append(s)
                rep_region.append(g)
                rep_team.append(f"{region} {seg}")
                rep_manager.append(managers[j // 8])
    R = len(rep_name)
    rep_seg_a = np.array(rep_seg)
    rep_region_a = np.array(rep_region)
    rep_team_a = np.array(rep_team, dtype=object)

    rep_weight = np.clip(np.exp(rng.normal(0.0, 0.15, R)), 0.75, 1.25)
    rep_win = np.clip(rng.normal(0.27, 0.045, R), 0.17, 0.38) * np.where(rep_seg_a == 2, 0.9, 1.0)
    rep_cycle = np.exp(rng.normal(0.0, 0.12, R))
    veteran = rng.random(R) < 0.78
    rep_start = np.where(
        veteran, -rng.uniform(30.0, 6 * 365.0, R), rng.uniform(0.0, max(D - 240.0, 1.0), R)
    )
    rep_start = np.floor(rep_start)
    capacity = np.where(rep_seg_a == 2, rng.integers(12, 21, R), rng.integers(25, 41, R)).astype(
        float
    )
    for i in planted_idx.values():
        rep_weight[i] = 1.0
        rep_win[i] = 0.28 if rep_seg_a[i] < 2 else 0.25
        rep_cycle[i] = 1.0
        rep_start[i] = -float(rng.integers(500, 1500))
    i_long = planted_idx["many_deals_long_cycles"]
    i_bloat = planted_idx["bloated_stale_pipeline"]
    i_small = planted_idx["mostly_small_deals"]
    i_churn = planted_idx["won_customers_churn_fast"]
    i_expand = planted_idx["expanding_account_manager"]
    # the long-cycle rep out-closes a team of otherwise average peers
    peers = (rep_team_a == rep_team_a[i_long]) & (np.arange(R) != i_long)
    rep_weight[peers] = np.clip(rep_weight[peers], 0.9, 1.05)
    rep_win[peers] = np.clip(rep_win[peers], 0.24, 0.30)
    rep_start[peers] = np.minimum(rep_start[peers], -30.0)
    rep_weight[i_long] = 1.6
    rep_win[i_long] = 0.33

    # ---- opportunities: who and when ------------------------------------------------------
    day_w = (
        _MONTH_FACTOR[cal["month"][:D] - 1]
        * np.where(cal["to_q_end"][:D] < 21, 1.25, 1.0)
        * np.where(cal["holiday"][:D], 0.35, 1.0)
        * np.where(cal["weekday"][:D] >= 5, 0.12, 1.0)
        * (1.0 + 0.12 * np.arange(D) / 365.0)
    )
    cdf = np.concatenate([[0.0], np.cumsum(day_w)])
    cdf /= cdf[-1]
    first_day = np.clip(rep_start, 0, D - 1).astype(np.int64)
    c0 = cdf[first_day]
    expected = rep_weight * _THROUGHPUT[rep_seg_a] * (1.0 - c0)
    expected *= _OPPS_PER_SCALE * scale / expected.sum()
    counts = rng.poisson(expected)
    n = int(counts.sum())
    r = np.repeat(np.arange(R), counts)
    u = c0[r] + rng.random(n) * (1.0 - c0[r])
    day = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, D - 1)
    created = day + rng.uniform(8 / 24, 19 / 24, n)
    seg = rep_seg_a[r]

    source = _choice_by_group(rng, _SOURCE_MIX, seg)
    product = _choice_by_group(rng, _PRODUCT_MIX, seg)
    src_norm = _SOURCE_WIN[None, :] / (_SOURCE_MIX * _SOURCE_WIN[None, :]).sum(1, keepdims=True)
    p_win = np.clip(rep_win[r] * src_norm[seg, source], 0.03, 0.85)
    won = rng.random(n) < p_win
    lost_k = _choice_by_group(rng, _LOST_STAGE, seg)  # only used when not won

    # ---- stage timeline -------------------------------------------------------------------
    cycle = _CYCLE_MEDIAN[seg] * rep_cycle[r] * np.exp(rng.normal(0.0, 1.0, n) * _CYCLE_SIGMA[seg])
    cycle[r == i_long] *= 3.0
    g = rng.standard_gamma(_STAGE_SHAPE, size=(n, 4))
    frac = np.cumsum(g, axis=1) / g.sum(axis=1, keepdims=True)
    T = np.empty((n, 5))
    T[:, 0] = created
    T[:, 1:] = created[:, None] + cycle[:, None] * frac
    rows = np.arange(n)
    k = np.where(won, 3, lost_k)
    t_k = T[rows, k]
    t_next = T[rows, k + 1]
    close = np.where(won, T[:, 4], t_k + (t_next - t_k) * rng.uniform(0.3, 1.2, n))
    prev_t = t_k  # entry time of the last stage before closing

    # quarter-end pull-in of won deals, holiday / August slippage, no weekend closes
    idx = np.clip(close, 0, cal_len - 1).astype(np.int64)
    into_q = idx - cal["q_start"][idx]
    pulled = cal["q_start"][idx] - rng.uniform(0.3, 4.5, n)
    pull = won & (into_q < 15) & (rng.random(n) < 0.4) & (pulled > prev_t + 0.05)
    close = np.where(pull, pulled, close)
    idx = np.clip(close, 0, cal_len - 1).astype(np.int64)
    slip = cal["holiday"][idx] & (rng.random(n) < 0.6)
    close = np.where(slip, close + cal["to_jan3"][idx] + rng.uniform(0.0, 8.0, n), close)
    idx = np.clip(close, 0, cal_len - 1).astype(np.int64)
    slip = (cal["month"][idx] == 8) & (rng.random(n) < 0.3)
    close = np.where(slip, close + rng.uniform(7.0, 25.0, n), close)
    idx = np.clip(close, 0, cal_len - 1).astype(np.int64)
    wd = cal["weekday"][idx]
    slip = (wd >= 5) & (rng.random(n) < 0.85)
    spread = rng.integers(0, 4, n)
    back = close - (wd - 4) - spread  # Saturday/Sunday -> a weekday before, if possible
    fwd = close + (7 - wd) + spread  # ... or after
    use_back = (wd == 5) | (rng.random(n) < 0.5)
    moved = np.where(use_back & (back > prev_t + 0.05), back, fwd)
    close = np.where(slip, moved, close)

    # planted: a bloated, stale pipeline (lost deals closed late; many left open to rot)
    natural_close = close.copy()
    is_bloat = r == i_bloat
    late = is_bloat & ~won & (rng.random(n) < 0.5)
    close = np.where(late, close + rng.uniform(60.0, 150.0, n), close)
    stale = (
        is_bloat & ~won & (created >= D - 540) & (prev_t + 8.0 < D - 50) & (rng.random(n) < 0.15)
    )
    zombie = ~won & (created >= D - 540) & (rng.random(n) < 0.015)
    stale |= zombie
    close = np.where(stale, np.inf, close)

    closed = close <= D
    status = np.where(closed, np.where(won, 1, 2), 0)  # 0 open, 1 won, 2 lost

    S = np.full((n, 5), np.nan)
    S[:, 0] = created
    for j in (1, 2, 3):
        reached = won | (lost_k >= j)
        S[reached, j] = T[reached, j]
    S[:, :4] = np.where(S[:, :4] <= D, S[:, :4], np.nan)
    S[closed, 4] = close[closed]
    n_entered = (~np.isnan(S[:, :4])).sum(axis=1)
    stage_code = np.where(closed, np.where(won, 4, 5), n_entered - 1)
    last_entered = np.nanmax(S[:, :4], axis=1)

    gap_closed = rng.exponential(1.0, n) * _LAST_ACTIVITY_GAP[seg]
    gap_open = rng.exponential(1.0, n) * _OPEN_ACTIVITY_GAP[seg]
    last_act = np.where(
        closed,
        np.clip(close - gap_closed, np.maximum(created, prev_t), close),
        np.clip(D - gap_open, last_entered, D),
    )
    # the bloated rep stops touching a losing deal once it reaches its last stage
    neglected = np.minimum(prev_t + rng.uniform(0.0, 5.0, n), natural_close)
    last_act = np.where(late & (neglected <= D), neglected, last_act)
    stale_act = np.minimum(prev_t + rng.uniform(0.0, 8.0, n), D)
    last_act = np.where(stale, np.maximum(stale_act, created), last_act)
    close = np.where(closed, close, np.nan)

    # ---- amounts --------------------------------------------------------------------------
    amount = (
        _AMOUNT_MEDIAN[seg]
        * _PRODUCT_PRICE[seg, product]
        * np.exp(rng.normal(0.0, 1.0, n) * _AMOUNT_SIGMA[seg])
    )
    big = (seg == 2) & (rng.random(n) < 0.02)
    amount = np.where(big, amount * rng.uniform(4.0, 10.0, n), amount)
    amount = np.where(r == i_small, amount * 0.3, amount)
    amount = np.maximum(
        np.round(amount / _AMOUNT_ROUND[seg]) * _AMOUNT_ROUND[seg], _AMOUNT_MIN[seg]
    )

    # ---- accounts: each rep works their own book -------------------------------------------
    m_acc = np.maximum(1, np.ceil(counts / _ACCOUNT_DEALS[rep_seg_a])).astype(np.int64)
    m_acc[i_churn] = max(1, counts[i_churn])  # every deal a new logo
    offset = np.concatenate([[0], np.cumsum(m_acc)[:-1]])
    local = np.floor(m_acc[r] * rng.random(n) ** 1.5).astype(np.int64)
    rep_first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    churn_rows = r == i_churn
    local[churn_rows] = np.arange(n)[churn_rows] - rep_first[i_churn]
    acc_raw = offset[r] + np.minimum(local, m_acc[r] - 1)

    # ---- sort deals by creation time -------------------------------------------------------
    order = np.argsort(created, kind="stable")
    r, seg, created, source, product, won, status, stage_code, close, last_act, amount = (
        x[order]
        for x in (r, seg, created, source, product, won, status, stage_code, close, last_act, amount)
    )
    acc_raw, S = acc_raw[order], S[order]

    uniq, first_pos = np.unique(acc_raw, return_index=True)
    acc_rank = np.empty(len(uniq), dtype=np.int64)
    acc_rank[np.argsort(first_pos, kind="stable")] = np.arange(len(uniq))
    acc = acc_rank[np.searchsorted(uniq, acc_raw)]
    A = len(uniq)
    acc_rep = np.empty(A, dtype=np.int64)
    acc_rep[acc] = r  # every deal of an account is with the same rep
    acc_seg = rep_seg_a[acc_rep]
    acc_region = rep_region_a[acc_rep]

    # account names and attributes
    industry = rng.integers(0, len(INDUSTRIES), A)
    pre = np.array(_CO_PREFIX, dtype=object)[rng.integers(0, len(_CO_PREFIX), A)]
    root = np.array(_CO_ROOT, dtype=object)[rng.integers(0, len(_CO_ROOT), A)]
    noun_tab = np.array(_CO_NOUN, dtype=object)
    noun = noun_tab[industry, rng.integers(0, noun_tab.shape[1], A)]
    sfx_u = rng.random(A)
    suffix = np.empty(A, dtype=object)
    for gi, region in enumerate(REGIONS):
        opts = np.array([" " + s if s else "" for s in _CO_SUFFIX[region]], dtype=object)
        m = acc_region == gi
        suffix[m] = opts[(sfx_u[m] * len(opts)).astype(np.int64)]
    acc_name = pre + root + " " + noun + suffix

    acc_am = acc_rep.copy()
    n_am = np.array([len(a) for a in am_by_region])
    am_tab = np.array([a + [a[0]] * (3 - len(a)) for a in am_by_region])
    pick = (rng.random(A) * n_am[acc_region]).astype(np.int64)
    acc_am = np.where(acc_seg == 2, am_tab[acc_region, pick], acc_am)

    is_won = status == 1
    w_idx = np.nonzero(is_won)[0]
    w_sorted = w_idx[np.lexsort((close[w_idx], acc[w_idx]))]
    w_acc = acc[w_sorted]
    w_first = np.ones(len(w_sorted), dtype=bool)
    w_first[1:] = w_acc[1:] != w_acc[:-1]
    acquired = np.full(A, -1, dtype=np.int64)
    acquired[w_acc[w_first]] = r[w_sorted[w_first]]

    # deal titles
    deal_no = pd.Series(acc).groupby(acc).cumcount().to_numpy()
    later_kind = np.where(
        seg == 2,
        np.where(rng.random(n) < 0.5, " renewal", " expansion"),
        np.where(rng.random(n) < 0.5, " upgrade", " add-on"),
    ).astype(object)
    deal_kind = np.where(deal_no == 0, " new business", later_kind)
    deal_name = acc_name[acc] + " – " + np.array(_PRODUCTS, dtype=object)[seg, product] + deal_kind

    # ---- revenue --------------------------------------------------------------------------
    rev_acc: list[np.ndarray] = []
    rev_day: list[np.ndarray] = []
    rev_amt: list[np.ndarray] = []
    rev_kind: list[np.ndarray] = []  # codes into REVENUE_KINDS: new, renewal, expansion, one-off

    w_kind = np.where(w_first, 0, np.where(rng.random(len(w_sorted)) < 0.6, 2, 0))
    rev_acc.append(w_acc)
    rev_day.append(close[w_sorted])
    rev_amt.append(amount[w_sorted])
    rev_kind.append(w_kind)

    f_acc = w_acc[w_first]
    f_t0 = close[w_sorted[w_first]]
    f_base = amount[w_sorted[w_first]]
    f_ent = acc_seg[f_acc] == 2

    # velocity: buy-till-you-die repeat purchases
    v = ~f_ent
    va, vt0, vb = f_acc[v], f_t0[v], f_base[v]
    lam = rng.gamma(2.0, 1.5, len(va))  # purchases per year while alive
    life = rng.exponential(1.0, len(va)) * np.where(acquired[va] == i_churn, 0.2, 2.5)  # years
    alive = np.minimum(life, (D - vt0) / 365.0)
    cnt = rng.poisson(lam * alive)
    rep_v = np.repeat(np.arange(len(va)), cnt)
    rev_acc.append(va[rep_v])
    rev_day.append(vt0[rep_v] + rng.random(len(rep_v)) * alive[rep_v] * 365.0)
    rev_amt.append(vb[rep_v] * np.exp(rng.normal(np.log(0.35), 0.5, len(rep_v))))
    rev_kind.append(np.full(len(rep_v), 3))

    # enterprise: yearly renewals with churn, plus expansions
    ea, et0, eb = f_acc[f_ent], f_t0[f_ent], f_base[f_ent]
    expander = acc_am[ea] == i_expand
    renewals = rng.geometric(np.where(expander, 0.05, 0.15)) - 1  # anniversaries survived
    n_ren = np.minimum(renewals, np.floor((D - et0) / 365.0).astype(np.int64))
    rep_e = np.repeat(np.arange(len(ea)), n_ren)
    kth = np.arange(len(rep_e)) - np.repeat(np.cumsum(n_ren) - n_ren, n_ren) + 1
    rev_acc.append(ea[rep_e])
    rev_day.append(et0[rep_e] + 365.0 * kth)
    uplift = np.where(expander, 1.25, 1.04)[rep_e]  # expansions raise the renewed contract
    rev_amt.append(eb[rep_e] * uplift**kth * np.exp(rng.normal(0.0, 0.05, len(rep_e))))
    rev_kind.append(np.full(len(rep_e), 1))
    alive_end = np.minimum(et0 + 365.0 * (renewals + 1), D)
    rate = np.where(expander, 4.0, 0.35)
    n_exp = rng.poisson(rate * (alive_end - et0) / 365.0)
    rep_x = np.repeat(np.arange(len(ea)), n_exp)
    rev_acc.append(ea[rep_x])
    rev_day.append(et0[rep_x] + rng.random(len(rep_x)) * (alive_end - et0)[rep_x])
    lo = np.where(expander, 0.40, 0.10)[rep_x]
    hi = np.where(expander, 0.80, 0.35)[rep_x]
    rev_amt.append(eb[rep_x] * (lo + (hi - lo) * rng.random(len(rep_x))))
    rev_kind.append(np.full(len(rep_x), 2))

    ra = np.concatenate(rev_acc)
    rd = np.minimum(np.floor(np.concatenate(rev_day)), D)
    rm = np.maximum(np.round(np.concatenate(rev_amt), 2), 1.0)
    rk = np.concatenate(rev_kind)
    ro = np.lexsort((rk, ra, rd))
    ra, rd, rm, rk = ra[ro], rd[ro], rm[ro], rk[ro]

    # ---- leads ----------------------------------------------------------------------------
    has_lead = rng.random(n) < _LEAD_RATE[source]
    lag = rng.gamma(2.0, 1.0, n) * _LEAD_LAG[seg] / 2.0
    floor_t = np.maximum(rep_start[r], 0.0)
    l1_created = np.maximum(created - lag, floor_t)
    l1_conv = np.maximum(created - rng.uniform(0.0, 0.1, n), l1_created)
    li = np.nonzero(has_lead)[0]

    m2 = int(round(n * 1.6))
    tpl = rng.integers(0, n, m2) if n else np.zeros(0, dtype=np.int64)
    t_r = r[tpl]
    t_floor = np.maximum(rep_start[t_r], 0.0)
    l2_created = created[tpl] + rng.normal(0.0, 25.0, m2)
    # (no extra wave of never-converting leads at the end: the young leads of the last weeks
    # look unconverted only because their conversions lie after the data ends, as in a
    # real CRM; the random draw is kept so the rest of the data stays the same)
    rng.random(m2)
    l2_created = np.clip(l2_created, t_floor, D - 0.01)
    l2_source = _choice_by_group(rng, _LEAD_SOURCE_MIX, seg[tpl])
    p_dq = np.where(D - l2_created > 30, 0.85, 0.25)
    l2_dq = rng.random(m2) < p_dq

    lead_created = np.concatenate([l1_created[li], l2_created])
    lead_r = np.concatenate([r[li], t_r])
    lead_src = np.concatenate([source[li], l2_source])
    lead_conv_opp = np.concatenate([li, np.full(m2, -1)])
    lead_conv_at = np.concatenate([l1_conv[li], np.full(m2, np.nan)])
    lead_dq = np.concatenate([np.zeros(len(li), dtype=bool), l2_dq])
    lo_ = np.argsort(lead_created, kind="stable")
    lead_created, lead_r, lead_src, lead_conv_opp, lead_conv_at, lead_dq = (
        a[lo_] for a in (lead_created, lead_r, lead_src, lead_conv_opp, lead_conv_at, lead_dq)
    )

    # ---- frames ---------------------------------------------------------------------------
    # String columns are built by `take` from small label arrays (much faster than
    # converting millions of Python strings); -1 codes become missing values.
    opp_ids = _ids("OPP-", n, 6)
    acc_ids = _ids("ACC-", A, 5)
    rep_names = _labels(rep_name)
    teams = _labels(rep_team)
    regions = _labels(REGIONS)
    sources = _labels(SOURCES)
    stages = _labels(STAGES)

    opportunities = _frame(
        "opportunities",
        {
            "opportunity_id": opp_ids,
            "name": _labels(deal_name),
            "account_id": acc_ids.take(acc),
            "owner": rep_names.take(r),
            "team": teams.take(r),
            "region": regions.take(rep_region_a[r]),
            "source": sources.take(source),
            "product": _labels([p for ps in _PRODUCTS for p in ps]).take(seg * 5 + product),
            "created_at": _to_ts(start_us, created),
            "stage": stages.take(stage_code),
            "status": _labels(("open", "won", "lost")).take(status),
            "closed_at": _to_ts(start_us, close),
            "amount": amount.astype(float),
            "currency": _labels(("USD",)).take(np.zeros(n, dtype=np.int64)),
            "last_activity_at": _to_ts(start_us, last_act),
        },
    )

    sh_i, sh_j = np.nonzero(~np.isnan(S))
    sh_code = np.where(sh_j == 4, np.where(won[sh_i], 4, 5), sh_j)
    stage_history = _frame(
        "stage_history",
        {
            "opportunity_id": opp_ids.take(sh_i),
            "stage": stages.take(sh_code),
            "entered_at": _to_ts(start_us, S[sh_i, sh_j]),
        },
    )

    n_leads = len(lead_created)
    leads = _frame(
        "leads",
        {
            "lead_id": _ids("LEAD-", n_leads, 7),
            "created_at": _to_ts(start_us, lead_created),
            "source": sources.take(lead_src),
            "owner": rep_names.take(lead_r),
            "region": regions.take(rep_region_a[lead_r]),
            "team": teams.take(lead_r),
            "converted_opportunity_id": opp_ids.take(lead_conv_opp, allow_fill=True),
            "converted_at": _to_ts(start_us, lead_conv_at),
            "disqualified": lead_dq,
        },
    )

    accounts = _frame(
        "accounts",
        {
            "account_id": acc_ids,
            "name": _labels(acc_name),
            "industry": _labels(INDUSTRIES).take(industry),
            "region": regions.take(acc_region),
            "account_manager": rep_names.take(acc_am),
            "acquired_by": rep_names.take(acquired, allow_fill=True),
        },
    )

    reps = _frame(
        "reps",
        {
            "rep_id": rep_names,
            "name": rep_names.copy(),
            "team": teams,
            "region": regions.take(rep_region_a),
            "manager": _labels(rep_manager),
            "start_date": _to_ts(start_us, rep_start),
            "capacity": capacity,
        },
    )

    revenue = _frame(
        "revenue",
        {
            "revenue_id": _ids("REV-", len(ra), 7),
            "account_id": acc_ids.take(ra),
            "date": _to_ts(start_us, rd),
            "amount": rm,
            "currency": _labels(("USD",)).take(np.zeros(len(ra), dtype=np.int64)),
            "kind": _labels(REVENUE_KINDS).take(rk),
        },
    )

    tables = {
        "opportunities": opportunities,
        "stage_history": stage_history,
        "leads": leads,
        "accounts": accounts,
        "reps": reps,
        "revenue": revenue,
    }
    return {name: tables.get(name, empty_frame(name)) for name in TABLES}
