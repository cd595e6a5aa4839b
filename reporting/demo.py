"""Synthetic CRM data for demos, tests and benchmarks.

``generate()`` returns every canonical table of :mod:`reporting.schema` for a made-up B2B
software company: 4 regions x 3 teams (two high-volume "velocity" teams and one
"Enterprise" team per region), three years of deals ending at ``end``, the leads they came
from, the accounts they were won with and the revenue those accounts produced afterwards,
the stage definitions (``stages``, :data:`STAGE_DEFS`) and each deal's history.

The data is realistic enough for the monthly report to be meaningful (seasonality, quarter-end
hockey sticks, stage drop-out, rep-level variation in win rates, cycles and volume) and it
contains seven *planted* behaviours, each on one named rep (see :data:`PLANTED`), that simple
metrics comparing a rep with their team (or with their quota) should surface:

* ``many_deals_long_cycles`` (Dana Whitfield, EMEA Mid-Market): closes the most deals of
  her team, with cycles three times as long; her lost deals lean to "No decision".
* ``bloated_stale_pipeline`` (Marco Bellini, EMEA Inside): many open deals left to rot,
  lost deals closed long after the last touch; he seldom updates an overdue close date
  (most of his open deals have an expected close date in the past) and his lost deals
  mostly "Went dark".
* ``mostly_small_deals`` (Priya Raman, North America Mid-Market): won amounts a third of
  her team's.
* ``won_customers_churn_fast`` (Camila Reyes, LATAM Inside): her new customers stop
  buying within months.
* ``expanding_account_manager`` (Amara Okafor, North America Enterprise): her accounts
  renew longer and expand far more.
* ``deals_slip_quarter_after_quarter`` (Tomás Aguirre, LATAM Enterprise): forecasts every
  deal for the current quarter's end and, in the quarter's last week, pushes each one
  still open to the end of the next quarter, quarter after quarter: his forecast is
  unreliable (won deals almost never close in the quarter first forecast); his lost deals
  lean to "Timing".
* ``bookings_collapsed_behind_quota`` (Grant Whitaker, North America Inside): an ordinary
  rep until the start of the month before the data's last month; since then he has lost
  every deal he would have won (mostly to a competitor), so he books nothing against a
  quota set from his normal trailing bookings: the latest complete month finds him far
  behind quota. (Drawn like the slipping rep: an ordinary member of the team, renamed,
  whose would-be wins turn into losses after every other draw, with the revenue they
  would have brought; the other reps' deals are unchanged.)

Quotas (``quotas``, see :func:`_quotas`): a monthly quota per rep set each quarter from
their trailing twelve months of bookings with a 15% stretch and the company's seasonal
shape, and quarterly team and region quotas (a team's is 95% of its reps' sum: managers
over-assign; a region's is the sum of its teams').

Deal history, as *evidence* (``opportunity_history`` is left empty: it is derived from
the evidence by :func:`reporting.history.rebuild` when the store is written): one
``opportunity_snapshots`` row per deal with its state at creation (origin ``created``),
``opportunity_changes`` for every field change after it (stage, and the status,
probability and forecast category that follow the stage; close-date pushes; amount
re-scoping and discounts; owner handovers), in the canonical text forms of
``docs/data-model.md`` (amount ``"36000"``, close date ``YYYY-MM-DD``, probability
``"0.75"``), and ``stage_history`` with one row per stage entered (a deal that moved back a
stage, or was reopened after a close, enters a stage again). Replaying a deal's changes
from its creation snapshot gives its row in ``opportunities`` (see :func:`_history`).

Conventions:

* ``end`` is the as-of moment: every timestamp is ``<= pandas.Timestamp(end)`` (midnight at
  the start of ``end``); deals not closed by then are ``open`` with no ``closed_at``.
* Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so the same
  ``(seed, scale, end)`` always gives identical frames. The history is drawn after every
  other table, so the tables without history are what they were before it existed (except
  the name of the one rep who became the slipping rep, and the titles of won deals, which
  now name their deal type).
* The opportunity-level work is vectorised with numpy; Python loops only run over reps,
  teams, regions and the (at most 12) rounds of close-date pushes. Measured on the shared
  2-core machine: ``scale=10`` (200,000 opportunities, 2 million changes) 6.5-9 s and
  1.6 GB at peak; ``scale=50`` (a million opportunities, 9.7 million changes) 40 s and
  7.5 GB, which is why ``benchmarks/asof_bench.py`` builds its 1M store in chunks.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pandas as pd

from reporting.schema import (
    CHANGE_FIELDS,
    DEAL_TYPES,
    FORECAST_CATEGORIES,
    REVENUE_KINDS,
    STATUSES,
    TABLES,
    empty_frame,
)

__all__ = [
    "LOST_REASONS",
    "PIPELINE",
    "PLANTED",
    "REGIONS",
    "SEGMENTS",
    "SOURCES",
    "STAGES",
    "STAGE_DEFS",
    "generate",
]

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
#: the demo's stage definitions (the ``stages`` table): stage -> (position, probability,
#: status, forecast category, rotting days). A deal's probability and forecast category
#: are its stage's, and change with it.
STAGE_DEFS: dict[str, tuple[int, float, str, str, float]] = {
    "Qualification": (1, 0.10, "open", "pipeline", 30.0),
    "Discovery": (2, 0.25, "open", "pipeline", 30.0),
    "Proposal": (3, 0.50, "open", "best case", 45.0),
    "Negotiation": (4, 0.75, "open", "commit", 45.0),
    "Closed Won": (5, 1.00, "won", "closed", np.nan),
    "Closed Lost": (6, 0.00, "lost", "omitted", np.nan),
}
PIPELINE = "Sales Pipeline"
#: why lost deals were lost (``opportunities.lost_reason``)
LOST_REASONS: tuple[str, ...] = (
    "Price",
    "Chose a competitor",
    "No budget",
    "No decision",
    "Timing",
    "Went dark",
    "Missing feature",
    "Not a fit",
)
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
    "deals_slip_quarter_after_quarter": "Tomás Aguirre",
    "bookings_collapsed_behind_quota": "Grant Whitaker",
}

# Team of each planted rep: EMEA and LATAM each tell two stories, North America three and
# APAC none (a control region).
_PLANTED_TEAM: dict[str, tuple[str, str]] = {
    "many_deals_long_cycles": ("EMEA", "Mid-Market"),
    "bloated_stale_pipeline": ("EMEA", "Inside"),
    "mostly_small_deals": ("North America", "Mid-Market"),
    "won_customers_churn_fast": ("LATAM", "Inside"),
    "expanding_account_manager": ("North America", "Enterprise"),
    "deals_slip_quarter_after_quarter": ("LATAM", "Enterprise"),
    "bookings_collapsed_behind_quota": ("North America", "Inside"),
}
# Stories added with the deal history: their rep is an ordinary member of the team, drawn
# like the others and renamed afterwards (the team's most senior rep), so that adding them
# left every other table of a given seed exactly as it was.
_HISTORY_STORIES = ("deals_slip_quarter_after_quarter",)
# Stories told the same way (an ordinary rep renamed), whose deals change only after every
# other table is drawn: the collapsed bookings (see ``generate``).
_LATER_STORIES = (*_HISTORY_STORIES, "bookings_collapsed_behind_quota")
#: the collapsed rep loses every deal he would have won from the start of the month
#: before the data's last month (the latest complete month, and the last one so far)
_COLLAPSE_MONTHS = 1
#: quotas: the stretch over trailing bookings, and the months of bookings they look at
QUOTA_STRETCH = 1.15
QUOTA_TRAILING_MONTHS = 12

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
# Lost reasons (order of LOST_REASONS) by the stage a lost deal dropped out of
# (Qualification, Discovery, Proposal, Negotiation): early deals are not a fit or have no
# budget, late ones are lost on price or to a competitor.
_LOST_REASON_MIX = np.array(
    [
        [0.05, 0.05, 0.25, 0.05, 0.10, 0.20, 0.00, 0.30],
        [0.10, 0.15, 0.20, 0.05, 0.15, 0.10, 0.10, 0.15],
        [0.25, 0.25, 0.10, 0.15, 0.10, 0.05, 0.10, 0.00],
        [0.30, 0.30, 0.05, 0.20, 0.10, 0.00, 0.05, 0.00],
    ]
)
# --- deal history ----------------------------------------------------------------------
_P_REGRESS = 0.08  # deals that reached Proposal and once moved back a stage (and forward)
_P_REOPEN = 0.015  # closed deals that were closed once before, reopened, closed again
_P_HANDOVER = 0.02  # deals handed over to their owner by a teammate
_P_RESCOPE = 0.25  # amount changed while in Proposal (re-scoped)
_P_DISCOUNT = 0.35  # amount lowered while in Negotiation (discount)
_PUSH_ROUNDS = 12  # at most this many close-date pushes per deal

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


def _num_text(x: np.ndarray) -> np.ndarray:
    """Numbers in the canonical text form of ``opportunity_changes``: a plain decimal
    without exponent or trailing ``.0`` ("36000", "36000.5", "0.25", "1")."""
    x = np.asarray(x, dtype=float)
    out = np.empty(len(x), dtype=object)
    whole = x == np.round(x)
    out[whole] = x[whole].astype(np.int64).astype(str).astype(object)
    out[~whole] = [np.format_float_positional(v, trim="-") for v in x[~whole]]
    return out


def _timeline(deal: np.ndarray, t: np.ndarray, val: np.ndarray, presorted: bool = False):
    """The changes of one field from its values over time.

    ``deal``, ``t``, ``val``: one row per value a deal's field took (its first row per deal
    is the value at creation), in any order unless ``presorted`` (sorted by deal and
    time). Returns the rows where the value changed, sorted by deal and time: deal, time,
    old value, new value. A row repeating the value before it is no change and is dropped
    (the next row's old value is then the same).
    """
    if not presorted:
        o = np.lexsort((t, deal))
        deal, t, val = deal[o], t[o], val[o]
    same = np.zeros(len(deal), dtype=bool)
    same[1:] = deal[1:] == deal[:-1]
    prev = np.empty_like(val)
    prev[1:] = val[:-1]
    if len(val):
        prev[0] = val[0]
    keep = same & (val != prev)
    return deal[keep], t[keep], prev[keep], val[keep]


def _history(
    rng: np.random.Generator,
    D: int,
    cal: dict[str, np.ndarray],
    r: np.ndarray,
    seg: np.ndarray,
    created: np.ndarray,
    status: np.ndarray,
    close: np.ndarray,
    S: np.ndarray,
    amount: np.ndarray,
    typical: np.ndarray,
    rep_start: np.ndarray,
    rep_team_a: np.ndarray,
    planted_idx: dict[str, int],
    day_txt: np.ndarray,
    rep_txt: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each deal's history, consistent with its final state (deals sorted by creation).

    Drawn after every other table, so that the tables without history are the same as
    they were before the generator had history. What happens to a deal (times are float
    days since the window start; every change lies after its creation and at or before
    ``D``):

    * stages: the entries of ``S`` (Qualification at creation, then each stage reached,
      then the close); ``_P_REGRESS`` of the deals that reached Proposal move back one
      stage once (from Proposal or Negotiation) and forward again before their next step;
      ``_P_REOPEN`` of the closed deals were closed once before (won or lost), reopened
      in their last open stage and closed for good at their close. Status, probability
      and forecast category follow the stage (:data:`STAGE_DEFS`).
    * close date: set at creation to the rep's estimate of the cycle (``typical``: the
      won-deal cycle the rep usually has; reps differ in optimism); while the deal is
      open past it, the rep pushes it out (each rep notices an overdue date with their
      own probability: the bloated-pipeline rep seldom does, leaving stale dates), up to
      ``_PUSH_ROUNDS`` times; a close sets it to the day of the close, a reopening to a
      new estimate. The quarter-slipping rep always forecasts the current quarter's end and,
      in the quarter's last week, pushes an open deal to the end of the next quarter.
    * amount: re-scoped in Proposal (``_P_RESCOPE``), discounted in Negotiation
      (``_P_DISCOUNT``); the final amount is the deal's amount.
    * owner: ``_P_HANDOVER`` of the deals were created by a teammate (who had started by
      then) and handed over to their owner.

    ``day_txt`` / ``rep_txt``: the canonical text of each day number and rep number.
    Returns arrays: ``ev_deal/ev_time/ev_code`` (stage entries in time order, for
    stage_history), ``ch_deal/ch_time/ch_field/ch_old/ch_new`` (opportunity_changes,
    sorted by deal, time and field; texts as shared Python strings), ``amount0``,
    ``close0`` (day number), ``owner0`` (the state at creation), ``expected`` (an open
    deal's expected close day now), ``lost_reason`` (code into LOST_REASONS, -1: none).
    """
    n, R = len(r), len(rep_start)
    cal_len = len(cal["to_q_end"])
    rows = np.arange(n)
    i_bloat = planted_idx["bloated_stale_pipeline"]
    i_slip = planted_idx["deals_slip_quarter_after_quarter"]
    i_long = planted_idx["many_deals_long_cycles"]
    closed = status != 0
    k_last = (~np.isnan(S[:, :4])).sum(axis=1) - 1  # last open stage entered
    t_last = np.nanmax(S[:, :4], axis=1)
    end_t = np.where(closed, close, float(D))  # final close, or now

    # ---- reopened deals: closed at c1, reopened at r1, closed for good at `close` -----------
    reop = closed & (end_t - t_last > 1.0) & (rng.random(n) < _P_REOPEN)
    u = rng.random((n, 3))
    c1 = np.where(reop, t_last + (end_t - t_last) * (0.2 + 0.3 * u[:, 0]), np.nan)
    r1 = np.where(reop, c1 + (end_t - c1) * (0.2 + 0.4 * u[:, 1]), np.nan)
    first_won = np.where(status == 1, u[:, 2] < 0.5, u[:, 2] < 0.3)
    open_end = np.where(reop, c1, end_t)  # end of the deal's first open spell

    # ---- stage regressions: back one stage and forward again ------------------------------
    j = np.where(~np.isnan(S[:, 3]) & (rng.random(n) < 0.5), 3, 2)
    t_j = S[rows, j]
    nxt = np.where((j == 2) & ~np.isnan(S[:, 3]), S[:, 3], open_end)
    span = nxt - t_j
    reg = ~np.isnan(t_j) & (span > 0.5) & (rng.random(n) < _P_REGRESS)
    u = rng.random((n, 2))
    ET = np.full((n, 9), np.nan)
    EC = np.zeros((n, 9), dtype=np.int64)
    ET[:, :4] = S[:, :4]
    EC[:, :4] = np.arange(4)
    ET[:, 4] = np.where(reg, t_j + span * (0.15 + 0.3 * u[:, 0]), np.nan)
    EC[:, 4] = j - 1
    ET[:, 5] = np.where(reg, t_j + span * (0.55 + 0.35 * u[:, 1]), np.nan)
    EC[:, 5] = j
    ET[:, 6] = c1
    EC[:, 6] = np.where(first_won, 4, 5)
    ET[:, 7] = r1
    EC[:, 7] = k_last
    ET[:, 8] = np.where(closed, close, np.nan)
    EC[:, 8] = np.where(status == 1, 4, 5)
    ev_i, ev_s = np.nonzero(~np.isnan(ET))
    ev_t, ev_c = ET[ev_i, ev_s], EC[ev_i, ev_s]
    o = np.lexsort((ev_t, ev_i))
    ev_i, ev_t, ev_c = ev_i[o], ev_t[o], ev_c[o]

    # ---- close dates ----------------------------------------------------------------------
    optimism = np.exp(rng.normal(-0.1, 0.15, R))  # first estimate / typical cycle
    push_len = rng.uniform(0.3, 0.8, R)  # how far a push moves the date (x typical cycle)
    notice = rng.uniform(0.7, 0.95, R)  # chance a rep updates an overdue close date
    notice[i_bloat] = 0.3
    notice[i_slip] = 1.0
    slip = r == i_slip
    to_q_end = cal["to_q_end"]
    est = typical * optimism[r] * np.exp(rng.normal(0.0, 0.3, n))
    e = np.ceil(created + np.maximum(est, 3.0))
    day0 = np.floor(created).astype(np.int64)
    qe = day0 + to_q_end[day0]  # the slipper forecasts this quarter's end ...
    qe = np.where(qe - day0 < 10, qe + 1 + to_q_end[np.minimum(qe + 1, cal_len - 1)], qe)
    e = np.minimum(np.where(slip, qe, e), cal_len - 1)  # ... or the next one's, if close
    close0 = e.copy()
    cd_deal, cd_t, cd_v = [rows], [created], [e.copy()]
    last = created.copy()
    live = rows
    for _ in range(_PUSH_ROUNDS):
        ei, li = e[live], live
        p = np.where(slip[li], ei - 6.0 * rng.random(len(li)), ei - 2.0 + 6.0 * rng.random(len(li)))
        p = np.maximum(p, last[li] + 0.01)
        due = (ei + 1.0 <= open_end[li]) & (p < open_end[li])
        act = due & (rng.random(len(li)) < notice[r[li]])
        nq = ei.astype(np.int64) + 1
        nq = nq + to_q_end[np.minimum(nq, cal_len - 1)]
        step = np.round(rng.exponential(1.0, len(li)) * push_len[r[li]] * typical[li])
        new_e = np.minimum(np.where(slip[li], nq, np.ceil(p) + 7.0 + step), cal_len - 1)
        live = li[act]
        if not len(live):
            break
        e[live], last[live] = new_e[act], p[act]
        cd_deal.append(live)
        cd_t.append(p[act])
        cd_v.append(new_e[act])
    expected = e.copy()  # an open deal's expected close date now
    cd_deal += [rows[reop], rows[reop], rows[closed]]
    cd_t += [c1[reop], r1[reop], close[closed]]
    reop_expect = np.ceil(r1 + (end_t - r1) * rng.uniform(0.5, 1.5, n))
    cd_v += [np.floor(c1[reop]), np.minimum(reop_expect[reop], cal_len - 1),
             np.floor(close[closed])]

    # ---- amounts: re-scoped in Proposal, discounted in Negotiation ------------------------
    rnd, lowest = _AMOUNT_ROUND[seg], _AMOUNT_MIN[seg]
    nxt2 = np.where(np.isnan(S[:, 3]), open_end, S[:, 3])
    resc = ~np.isnan(S[:, 2]) & (nxt2 - S[:, 2] > 0.2) & (rng.random(n) < _P_RESCOPE)
    disc = ~np.isnan(S[:, 3]) & (open_end - S[:, 3] > 0.2) & (rng.random(n) < _P_DISCOUNT)
    t_resc = S[:, 2] + (nxt2 - S[:, 2]) * rng.uniform(0.05, 0.5, n)
    t_disc = S[:, 3] + (open_end - S[:, 3]) * rng.uniform(0.3, 0.9, n)
    before_disc = np.maximum(
        np.round(amount / (1.0 - rng.uniform(0.05, 0.2, n)) / rnd) * rnd, lowest)
    before_disc = np.where(disc, before_disc, amount)
    before_resc = np.maximum(
        np.round(before_disc / np.exp(rng.normal(0.05, 0.2, n)) / rnd) * rnd, lowest)
    amount0 = np.where(resc, before_resc, before_disc)
    am_deal = np.concatenate([rows, rows[resc], rows[disc]])
    am_t = np.concatenate([created, t_resc[resc], t_disc[disc]])
    am_v = np.concatenate([amount0, before_disc[resc], amount[disc]])

    # ---- owner handovers from a teammate --------------------------------------------------
    # (a team's reps are consecutive rep numbers)
    _, team_first, team_of, team_size = np.unique(
        rep_team_a, return_index=True, return_inverse=True, return_counts=True)
    first, size = team_first[team_of][r], team_size[team_of][r]
    mate = first + (r - first + rng.integers(1, np.maximum(size, 2))) % size
    t_hand = created + (open_end - created) * rng.uniform(0.1, 0.6, n)
    hand = (rng.random(n) < _P_HANDOVER) & (rep_start[mate] <= created)
    hand &= (open_end - created > 0.5) & (mate != r)
    owner0 = np.where(hand, mate, r)

    # ---- lost reasons ---------------------------------------------------------------------
    reason = _choice_by_group(rng, _LOST_REASON_MIX, np.maximum(k_last, 0))
    u = rng.random(n)
    reason = np.where((r == i_bloat) & (u < 0.6), LOST_REASONS.index("Went dark"), reason)
    reason = np.where((r == i_slip) & (u < 0.5), LOST_REASONS.index("Timing"), reason)
    reason = np.where((r == i_long) & (u < 0.35), LOST_REASONS.index("No decision"), reason)
    reason = np.where(status == 2, reason, -1)

    # ---- the changes, field by field, as canonical text -----------------------------------
    stage_txt = np.array(STAGES, dtype=object)
    defs = [STAGE_DEFS[st] for st in STAGES]
    prob_txt = _num_text(np.array([d[1] for d in defs]))
    # status and forecast category: a code per distinct value, from the stage's code
    status_vals = np.array(STATUSES, dtype=object)
    status_code = np.array([STATUSES.index(d[2]) for d in defs])
    fc_vals = np.array(FORECAST_CATEGORIES, dtype=object)
    fc_code = np.array([FORECAST_CATEGORIES.index(d[3]) for d in defs])
    parts = []

    def add(field: str, deal, t, old, new) -> None:
        parts.append((deal, t, np.full(len(deal), CHANGE_FIELDS.index(field)), old, new))

    d_, t_, o_, n_ = _timeline(ev_i, ev_t, ev_c, presorted=True)
    add("stage", d_, t_, stage_txt[o_], stage_txt[n_])
    add("probability", d_, t_, prob_txt[o_], prob_txt[n_])  # each stage has its own
    d_, t_, o_, n_ = _timeline(ev_i, ev_t, status_code[ev_c], presorted=True)
    add("status", d_, t_, status_vals[o_], status_vals[n_])
    d_, t_, o_, n_ = _timeline(ev_i, ev_t, fc_code[ev_c], presorted=True)
    add("forecast_category", d_, t_, fc_vals[o_], fc_vals[n_])
    d_, t_, o_, n_ = _timeline(
        np.concatenate(cd_deal), np.concatenate(cd_t), np.concatenate(cd_v).astype(np.int64))
    add("close_date", d_, t_, day_txt[o_], day_txt[n_])
    d_, t_, o_, n_ = _timeline(am_deal, am_t, am_v)
    add("amount", d_, t_, _num_text(o_), _num_text(n_))
    add("owner", rows[hand], t_hand[hand], rep_txt[owner0[hand]], rep_txt[r[hand]])
    ch = [np.concatenate(x) for x in zip(*parts, strict=True)]
    o = np.lexsort((ch[2], ch[1], ch[0]))
    ch_deal, ch_time, ch_field, ch_old, ch_new = (x[o] for x in ch)
    return {
        "ev_deal": ev_i,
        "ev_time": ev_t,
        "ev_code": ev_c,
        "ch_deal": ch_deal,
        "ch_time": ch_time,
        "ch_field": np.array(CHANGE_FIELDS, dtype=object)[ch_field],
        "ch_old": ch_old,
        "ch_new": ch_new,
        "amount0": amount0,
        "close0": close0,
        "owner0": owner0,
        "expected": expected,
        "lost_reason": reason,
    }


# ---------------------------------------------------------------------------------------
def _round_quota(x: np.ndarray) -> np.ndarray:
    """Quotas as people write them: to 500 under 20,000, to 1,000 under 200,000, else to
    5,000 (a rep's monthly quota is at least 500)."""
    step = np.where(x < 20_000, 500.0, np.where(x < 200_000, 1_000.0, 5_000.0))
    return np.round(x / step) * step


def _quotas(opps: pd.DataFrame, reps: pd.DataFrame, start_ts: pd.Timestamp,
            end_ts: pd.Timestamp) -> pd.DataFrame:
    """The sales plan: a monthly quota per rep, quarterly ones per team and region.

    Set quarter by quarter, as sales ops do, from what was known at the quarter's start: a
    rep's monthly quota is :data:`QUOTA_STRETCH` x their average monthly bookings (won
    value) over the :data:`QUOTA_TRAILING_MONTHS` months before the quarter (the months they
    worked), x the month's seasonal weight (the company's bookings in the same month a year
    earlier / its average month in that window: quarter-end months weigh more). A rep
    with fewer than 6 months behind them, or no bookings yet, ramps at half the team's
    median quota that month; a rep who has not started has none. A team's quarterly quota is 95%
    of the sum of its reps' (managers over-assign), a region's the sum of its teams'.
    Quarters from the first with a full trailing year of bookings (15 months into the data:
    the first months hold few closes) to the one holding ``end``."""
    cols = empty_frame("quotas").columns
    won = opps[opps["status"] == "won"]
    if won.empty or reps.empty:
        return empty_frame("quotas")
    months = pd.period_range(start_ts.to_period("M"), end_ts.to_period("M"), freq="M")
    book = (won.groupby([won["owner"], won["closed_at"].dt.to_period("M")], observed=True)
            ["amount"].sum().unstack(fill_value=0.0)
            .reindex(index=reps["rep_id"], columns=months, fill_value=0.0))
    B = book.to_numpy(dtype=float)  # reps x months
    company = B.sum(axis=0)
    rep_first = reps["start_date"].dt.to_period("M").to_numpy()
    started = np.array([[rf <= m for m in months] for rf in rep_first])  # reps x months
    team = reps["team"].to_numpy(dtype=object)
    region = reps["region"].to_numpy(dtype=object)
    # the first months of the data hold few closes (deals take months to close): the plan
    # starts once a full year of bookings lies behind it, a quarter after that
    ready = start_ts.to_period("M") + QUOTA_TRAILING_MONTHS + 3
    first_q = ready.asfreq("Q")
    if first_q.asfreq("M", "s") < ready:
        first_q += 1
    rows: list[tuple[str, str, str, float]] = []
    for q in pd.period_range(first_q, end_ts.to_period("Q"), freq="Q"):
        q0 = months.get_loc(q.asfreq("M", "s")) if q.asfreq("M", "s") in months else None
        if q0 is None or q0 < QUOTA_TRAILING_MONTHS:
            continue
        win = slice(q0 - QUOTA_TRAILING_MONTHS, q0)
        active = started[:, win].sum(axis=1)
        booked = B[:, win].sum(axis=1)
        mean = np.where((active >= 6) & (booked > 0), booked / np.maximum(active, 1), np.nan)
        avg_month = company[win].mean()
        rep_q = np.zeros(len(reps))
        for k in range(3):
            m = q.asfreq("M", "s") + k
            j = q0 + k - 12
            weight = company[j] / avg_month if avg_month > 0 and company[j] > 0 else 1.0
            quota = QUOTA_STRETCH * mean * weight
            now = np.array([rf <= m for rf in rep_first])
            for t in np.unique(team):
                inteam = team == t
                med = np.nanmedian(quota[inteam]) if np.isfinite(quota[inteam]).any() else np.nan
                ramp = inteam & now & ~np.isfinite(quota)
                quota[ramp] = 0.5 * med
            quota = np.where(now, np.maximum(_round_quota(quota), 500.0), np.nan)
            for rid, a in zip(reps["rep_id"], quota, strict=True):
                if np.isfinite(a):
                    rows.append(("rep", rid, f"{m}", float(a)))
            rep_q += np.nan_to_num(quota)
        label = f"{q.year}-Q{q.quarter}"
        team_q = {t: float(_round_quota(np.array([0.95 * rep_q[team == t].sum()]))[0])
                  for t in dict.fromkeys(team)}
        team_q = {t: a for t, a in team_q.items() if a > 0}  # a team with no quota yet
        for t, a in team_q.items():
            rows.append(("team", t, label, a))
        for g in dict.fromkeys(region):
            ts = [t for t in dict.fromkeys(team[region == g]) if t in team_q]
            if ts:
                rows.append(("region", g, label, float(math.fsum(team_q[t] for t in ts))))
    out = pd.DataFrame(rows, columns=["scope_type", "scope", "period", "amount"])
    out["currency"] = "USD"
    return out[cols]


def generate(
    seed: int = 7, scale: float = 1.0, end: _dt.date | None = None
) -> dict[str, pd.DataFrame]:
    """Generate the canonical tables (see module docstring).

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
    planted_at = {
        team: key for key, team in _PLANTED_TEAM.items() if key not in _LATER_STORIES
    }
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
    for key in _LATER_STORIES:  # the team's most senior ordinary rep takes the name
        members = np.nonzero(rep_team_a == " ".join(_PLANTED_TEAM[key]))[0]
        members = [int(i) for i in members if i not in planted_idx.values()]
        i = min(members, key=lambda i: (rep_start[i], i))
        rep_name[i] = PLANTED[key]
        planted_idx[key] = i
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
    # the won deal each line comes from (-1: a later purchase, renewal or expansion)
    rsrc = np.concatenate([w_sorted, np.full(len(ra) - len(w_sorted), -1, dtype=np.int64)])
    ro = np.lexsort((rk, ra, rd))
    ra, rd, rm, rk, rsrc = ra[ro], rd[ro], rm[ro], rk[ro], rsrc[ro]

    # ---- planted: collapsed bookings (after every draw above, from a stream of its own) --
    # Every deal the rep would have won since the collapse began is lost instead (to a
    # competitor, mostly); the revenue it would have brought is gone with it (an account
    # whose first win is lost never became a customer: none of its lines remain).
    i_behind = planted_idx["bookings_collapsed_behind_quota"]
    end_month = pd.Timestamp(end_ts.year, end_ts.month, 1)
    collapse_from = float((end_month - pd.DateOffset(months=_COLLAPSE_MONTHS) - start_ts).days)
    flip = (r == i_behind) & (status == 1) & (close >= collapse_from)
    status[flip], stage_code[flip] = 2, 5
    first_flipped = np.zeros(A, dtype=bool)
    first_flipped[w_acc[w_first]] = flip[w_sorted[w_first]]
    acquired[first_flipped] = -1
    keep_rev = ~(first_flipped[ra] | ((rsrc >= 0) & flip[np.maximum(rsrc, 0)]))
    is_won = status == 1

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

    # ---- deal types and titles -----------------------------------------------------------
    # A won deal's type is its revenue line's kind (the first win of an account and 40% of
    # later wins are new business, the rest expansion); other deals follow their title
    # (an account's first deal is new business; renewal; expansion, upgrade, add-on are
    # expansion). A won deal's title then names its type.
    deal_type = np.where(deal_no == 0, 0, np.where(later_kind == " renewal", 1, 2))
    w_kept = ~flip[w_sorted]
    deal_type[w_sorted[w_kept]] = np.where(w_kind == 2, 2, 0)[w_kept]
    expansion_like = np.isin(deal_kind, [" expansion", " upgrade", " add-on"])
    won_kind = np.where(
        deal_type == 0,
        " new business",
        np.where(expansion_like, deal_kind, np.where(seg == 2, " expansion", " upgrade")),
    )
    deal_kind = np.where(is_won, won_kind, deal_kind)
    deal_name = acc_name[acc] + " – " + np.array(_PRODUCTS, dtype=object)[seg, product] + deal_kind

    # ---- deal history (drawn last: the tables above do not depend on it) -------------------
    day_txt = (np.datetime64(start_ts.date(), "D") + np.arange(cal_len)).astype(str).astype(object)
    h = _history(
        rng, D, cal, r, seg, created, status, close, S, amount,
        _CYCLE_MEDIAN[seg] * rep_cycle[r] * np.where(r == i_long, 3.0, 1.0), rep_start, rep_team_a,
        planted_idx, day_txt, np.array(rep_name, dtype=object),
    )
    ch_deal = h["ch_deal"]
    if flip.any():  # the collapsed rep's lost wins went mostly to a competitor
        u_flip = np.random.default_rng([seed, 15]).random(n)
        h["lost_reason"] = np.where(flip & (u_flip < 0.7), LOST_REASONS.index("Chose a competitor"),
                                    h["lost_reason"])
    last_change = np.full(n, -np.inf)
    ends = np.nonzero(np.append(ch_deal[1:] != ch_deal[:-1], True))[0] if len(ch_deal) else []
    last_change[ch_deal[ends]] = h["ch_time"][ends]  # changes are sorted by deal and time
    modified = np.maximum(np.maximum(created, last_act), last_change)
    stage_prob = np.array([STAGE_DEFS[st][1] for st in STAGES])
    stage_fc = _labels([STAGE_DEFS[st][3] for st in STAGES])

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
            "expected_close_date": _to_ts(start_us, np.where(status == 0, h["expected"], np.nan)),
            "probability": stage_prob[stage_code],
            "forecast_category": stage_fc.take(stage_code),
            "lost_reason": _labels(LOST_REASONS).take(h["lost_reason"], allow_fill=True),
            "deal_type": _labels(DEAL_TYPES).take(deal_type),
            "modified_at": _to_ts(start_us, modified),
        },
    )

    stage_history = _frame(
        "stage_history",
        {
            "opportunity_id": opp_ids.take(h["ev_deal"]),
            "stage": stages.take(h["ev_code"]),
            "entered_at": _to_ts(start_us, h["ev_time"]),
        },
    )
    snapshots = _frame(  # each deal's state at its creation
        "opportunity_snapshots",
        {
            "opportunity_id": opp_ids,
            "observed_at": _to_ts(start_us, created),
            "stage": stages.take(np.zeros(n, dtype=np.int64)),
            "status": _labels(STATUSES).take(np.zeros(n, dtype=np.int64)),
            "amount": h["amount0"],
            "currency": _labels(("USD",)).take(np.zeros(n, dtype=np.int64)),
            "close_date": _to_ts(start_us, h["close0"]),
            "probability": np.full(n, stage_prob[0]),
            "forecast_category": stage_fc.take(np.zeros(n, dtype=np.int64)),
            "owner": rep_names.take(h["owner0"]),
            "origin": _labels(("created",)).take(np.zeros(n, dtype=np.int64)),
        },
    )
    changes = _frame(
        "opportunity_changes",
        {
            "opportunity_id": np.asarray(opp_ids, dtype=object)[ch_deal],
            "changed_at": _to_ts(start_us, h["ch_time"]),
            "field": h["ch_field"],
            "old_value": h["ch_old"],
            "new_value": h["ch_new"],
            "currency": np.where(h["ch_field"] == "amount", "USD", None).astype(object),
        },
    )
    stage_defs = _frame(
        "stages",
        {
            "stage": stages,
            "pipeline": _labels((PIPELINE,)).take(np.zeros(len(STAGES), dtype=np.int64)),
            "position": np.array([STAGE_DEFS[st][0] for st in STAGES], dtype=float),
            "probability": stage_prob,
            "status": _labels([STAGE_DEFS[st][2] for st in STAGES]),
            "forecast_category": stage_fc,
            "rotting_days": np.array([STAGE_DEFS[st][4] for st in STAGES]),
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
    revenue = revenue[keep_rev].reset_index(drop=True)  # ids of the other lines unchanged

    quotas = _quotas(opportunities, reps, start_ts, end_ts)

    tables = {
        "quotas": quotas,
        "opportunities": opportunities,
        "stage_history": stage_history,
        "opportunity_snapshots": snapshots,
        "opportunity_changes": changes,
        "stages": stage_defs,
        "leads": leads,
        "accounts": accounts,
        "reps": reps,
        "revenue": revenue,
    }
    return {name: tables.get(name, empty_frame(name)) for name in TABLES}


# --------------------------------------------------------------------------- large stores

#: a demo of more than this scale is generated in chunks of at most this scale
#: (``generate_chunks``): a chunk's tables take about 1 GB, a scale-50 ``generate()`` 7.5 GB
CHUNK_SCALE = 5.0
#: id columns that get the chunk's number (``OPP-000123`` -> ``OPP-007000123`` in chunk 7)
_CHUNK_IDS = {
    "opportunities": ("opportunity_id", "account_id"),
    "opportunity_snapshots": ("opportunity_id",),
    "opportunity_changes": ("opportunity_id",),
    "stage_history": ("opportunity_id",),
    "leads": ("lead_id", "converted_opportunity_id"),
    "accounts": ("account_id",),
    "revenue": ("revenue_id", "account_id"),
}
#: columns holding a rep's (or manager's) name: a chunk's people are its own
_CHUNK_NAMES = {
    "opportunities": ("owner",),
    "opportunity_snapshots": ("owner",),
    "leads": ("owner",),
    "accounts": ("account_manager", "acquired_by"),
    "reps": ("rep_id", "name", "manager"),
}


def _chunk_tables(tables: dict[str, pd.DataFrame], chunk: int) -> dict[str, pd.DataFrame]:
    """Chunk ``chunk``'s tables made distinct from the other chunks': ids numbered with the
    chunk, people named with it (``Marco Bellini · 7``), so chunks add up to one bigger
    company with more reps per team (the teams and regions are shared)."""
    if chunk == 0:
        return tables
    tag = f" · {chunk}"

    def ids(s: pd.Series) -> pd.Series:
        s = s.astype(object)
        text = s.astype(str)
        pos = text.str.find("-") + 1
        out = [t[:p] + f"{chunk:03d}" + t[p:] for t, p in zip(text, pos, strict=True)]
        return pd.Series(out, index=s.index, dtype=object).where(s.notna(), None)

    def names(s: pd.Series) -> pd.Series:
        s = s.astype(object)
        return (s.astype(str) + tag).where(s.notna(), None)

    out = {}
    for name, frame in tables.items():
        f = frame.copy()
        for c in _CHUNK_IDS.get(name, ()):
            f[c] = ids(f[c])
        for c in _CHUNK_NAMES.get(name, ()):
            f[c] = names(f[c])
        if name == "opportunity_changes":
            owner = f["field"] == "owner"
            for c in ("old_value", "new_value"):
                f.loc[owner, c] = names(f.loc[owner, c])
        if name == "quotas":
            rep = f["scope_type"] == "rep"
            f.loc[rep, "scope"] = names(f.loc[rep, "scope"])
        out[name] = f
    return out


def generate_chunks(seed: int = 7, scale: float = 1.0, end: _dt.date | None = None,
                    chunk_scale: float = CHUNK_SCALE):
    """The demo tables in chunks (an iterator of table dicts) whose memory is one chunk's.

    Up to ``chunk_scale`` this is one chunk, ``generate(seed, scale, end)`` itself (the
    same data). Above, ``ceil(scale / chunk_scale)`` chunks of equal scale, each a
    ``generate()`` of its own seed (``seed + 7919 * i``; deterministic per seed) with its
    own ids and people (:func:`_chunk_tables`), every planted story in each. Team and
    region quotas are summed over the chunks: they come in the last chunk; ``stages`` in
    the first."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    if end is None:
        end = _dt.datetime.now(_dt.UTC).date()
    n = max(1, math.ceil(scale / chunk_scale - 1e-9))
    if n == 1:
        yield generate(seed=seed, scale=scale, end=end)
        return
    group_quotas: list[pd.DataFrame] = []
    for i in range(n):
        tables = _chunk_tables(generate(seed=seed + 7919 * i, scale=scale / n, end=end), i)
        q = tables.get("quotas")
        if q is not None:
            rep = q["scope_type"] == "rep"
            group_quotas.append(q[~rep])
            tables["quotas"] = q[rep].reset_index(drop=True)
        if i > 0:
            tables.pop("stages", None)
        if i == n - 1 and group_quotas:
            summed = (pd.concat(group_quotas, ignore_index=True)
                      .groupby(["scope_type", "scope", "period", "currency"], as_index=False,
                               sort=False)["amount"].sum())
            tables["quotas"] = pd.concat([tables["quotas"], summed[tables["quotas"].columns]],
                                         ignore_index=True)
        yield tables
        del tables
