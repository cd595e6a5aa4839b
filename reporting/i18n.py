"""The message catalogue: every piece of report text, in English and Persian.

English strings are the keys (gettext style): ``tr("Win rate", "fa")`` gives the Persian.
A string without a translation falls back to English and is recorded in ``MISSING`` so a
test can assert that a Persian report used none. A label with a currency code or a figure
written into it ('Booked (USD)', 'median rep 0.20') is looked up with the key's
placeholder in its place ('Booked ({currency})'); a text already in Persian (a caption
translated and formatted before ``show_table`` translates it again) passes unchanged; a
translated template formats the words the code passes as parameters ('rose', 'linear',
'win rate': :data:`FA_PARAMETERS`) in Persian. Persian output also gets Persian digits
(:func:`localize_numbers`), right-to-left layout (set by the renderer) and, as an option,
Jalali (Solar Hijri) dates (:func:`jalali`, by jdatetime).
"""

from __future__ import annotations

import re
from datetime import date

LANGUAGES = ("en", "fa")
MISSING: set[str] = set()

_FA_DIGITS = str.maketrans("0123456789%", "۰۱۲۳۴۵۶۷۸۹٪")

FA: dict[str, str] = {
    # cover, summary, sections
    "Monthly Sales Report": "گزارش ماهانه‌ی فروش",
    # issue 11: customer value, CLV, bands, titles
    "Quarterly Sales Report": "گزارش فصلی فروش",
    "Annual Sales Report": "گزارش سالانه‌ی فروش",
    "Sales Report": "گزارش فروش",
    "4. Customer lifetime value": "۴. ارزش طول عمر مشتری",
    "every customer account in scope counts, including those without a recent deal. "
    "Acquirers are compared per account-year and on each account's first year, so old "
    "books do not look better for being old; acquirers whose customers churn point at "
    "the wrong customers; account managers whose accounts expand (or do not) point at "
    "how accounts are run.":
        "همه‌ی حساب‌های مشتری این دامنه شمرده می‌شوند، از جمله آن‌هایی که معامله‌ی تازه‌ای "
        "ندارند. جذب‌کنندگان بر پایه‌ی ارزش هر حساب-سال و سال نخست هر حساب مقایسه می‌شوند تا "
        "سبد قدیمی‌تر فقط به خاطر قدمتش بهتر به نظر نرسد؛ جذب‌کنندگانی که مشتریانشان ریزش "
        "می‌کنند نشان از مشتریان نامناسب دارند؛ مدیران حسابی که حساب‌هایشان گسترش می‌یابد (یا "
        "نمی‌یابد) نشان از شیوه‌ی اداره‌ی حساب‌ها دارند.",
    "no revenue in scope": "در این دامنه درآمدی نیست",
    "in the period, {n} paying accounts": "در این دوره، {n} حساب پرداخت‌کننده",
    "{rate} of {n} year-old customers churned": "{rate} از {n} مشتری یک‌ساله ریزش کرده‌اند",
    "to date {value} per customer": "تاکنون {value} برای هر مشتری",
    "Per account-year": "هر حساب-سال",
    "First-year value": "ارزش سال نخست",
    "Lifetime value": "ارزش طول عمر",
    "Revenue to date": "درآمد تاکنون",
    "Customer lifetime value per account, by acquiring rep":
        "ارزش طول عمر مشتری برای هر حساب، به تفکیک جذب‌کننده",
    "Customer lifetime value per account, by account manager":
        "ارزش طول عمر مشتری برای هر حساب، به تفکیک مدیر حساب",
    "Customer value per account-year, by acquiring rep":
        "ارزش مشتری برای هر حساب-سال، به تفکیک جذب‌کننده",
    "Customer value per account-year, by account manager":
        "ارزش مشتری برای هر حساب-سال، به تفکیک مدیر حساب",
    "lifetime value per account: next {months} months, discounted":
        "ارزش طول عمر هر حساب: {months} ماه آینده، تنزیل‌شده",
    "revenue per account-year to date": "درآمد هر حساب-سال تاکنون",
    "Revenue per account-year of accounts won": "درآمد هر حساب-سالِ حساب‌های جذب‌شده",
    "Lifetime value per account won (discounted)": "ارزش طول عمر هر حساب جذب‌شده (تنزیل‌شده)",
    "Deal-size bands (KMeans on log amounts), learned for this store on the deals won from "
    "{start} to {end}: {parts}.":
        "دسته‌های اندازه‌ی معامله (KMeans روی لگاریتم مبالغ)، آموخته‌شده برای همین پایگاه داده "
        "روی معاملات برده از {start} تا {end}: {parts}.",
    "{profile}: too few deals ({n}; at least {min} needed)":
        "{profile}: معاملات کافی نیست ({n}؛ دست‌کم {min} لازم است)",
    "Drift of the whole company's won deals in this period against a window without it: "
    "{drift}. Refresh with --refresh-bands.":
        "جابه‌جایی معاملات برده‌ی کل شرکت در این دوره در برابر بازه‌ای که این دوره را در بر ندارد: "
        "{drift}. با ‎--refresh-bands‎ تازه کنید.",
    "{n} zero-amount wins count as won deals in the small band and in the average deal size.":
        "{n} معامله‌ی برده با مبلغ صفر در دسته‌ی کوچک و در میانگین اندازه‌ی معامله شمرده "
        "می‌شوند.",
    "too few deals": "معاملات کافی نیست",
    "No customer lifetime value model: the data has no revenue table.":
        "مدل ارزش طول عمر مشتری در کار نیست: داده‌ها جدول درآمد ندارند.",
    "No customer lifetime value model could be fitted: {error}.":
        "هیچ مدل ارزش طول عمر مشتری برازش نشد: {error}.",
    "Lifetime value = revenue expected over the next {months} months, discounted at "
    "{rate} a year, from the {model} model, chosen by backtest on the last {holdout} "
    "months ({n} accounts): aggregate error {err} (naive baseline {base_err}), Spearman "
    "rank correlation {rho} (baseline {base_rho}), top-decile capture {top}. Scores "
    "(lower is better): {scores}.":
        "ارزش طول عمر = درآمد مورد انتظار در {months} ماه آینده، با نرخ تنزیل سالانه‌ی {rate}، "
        "از مدل {model} که با آزمون گذشته‌نگر روی {holdout} ماه اخیر ({n} حساب) برگزیده شد: "
        "خطای کل {err} (مبنای ساده {base_err})، همبستگی رتبه‌ای اسپیرمن {rho} (مبنا "
        "{base_rho})، سهم دهک برتر {top}. امتیازها (کمتر بهتر است): {scores}.",
    "Spend model: {lines} zero or negative lines and {customers} repeat customers without a "
    "positive repeat purchase left out.":
        "مدل هزینه: {lines} ردیف صفر یا منفی و {customers} مشتری تکراری بدون خرید تکراری مثبت "
        "کنار گذاشته شدند.",
    "{n} zero or negative revenue lines (credits, refunds) are not purchases and are left "
    "out.":
        "{n} ردیف درآمد صفر یا منفی (بستانکاری، بازپرداخت) خرید نیستند و کنار گذاشته شدند.",
    "BG/NBD (purchases) with average spend": "BG/NBD (خریدها) با میانگین هزینه",
    "BG/NBD with Gamma-Gamma spend": "BG/NBD با هزینه‌ی گاما-گاما",
    "RFM-segment": "بخش‌بندی RFM",
    "gradient-boosted regressor": "رگرسیون تقویت گرادیانی",
    "shifted-beta-geometric retention": "ماندگاری بتا-هندسی انتقال‌یافته",
    'Revenue per account: revenue booked in the period divided by the customer '
    'accounts that booked any revenue in the period (previous period and last year on'
    ' the same basis). Customer accounts in scope: every account with an opportunity '
    'of the region / team created before the period end and revenue booked before it,'
    " whether or not it had a recent deal. Revenue to date per account (labelled 'to "
    "date') is all revenue before the period end divided by those accounts.":
        'درآمد هر حساب: درآمد ثبت\u200cشده در این دوره تقسیم بر حساب\u200cهای مشتری\u200cای که در '
        'این دوره درآمدی ثبت کرده\u200cاند (دوره\u200cی قبل و پارسال بر همین پایه). حساب\u200cهای '
        'مشتری این دامنه: هر حسابی که پیش از پایان دوره فرصتی از این منطقه یا تیم '
        'داشته و پیش از آن درآمدی ثبت کرده است، چه معامله\u200cی تازه\u200cای داشته باشد چه نه.'
        ' درآمد تاکنون هر حساب (با برچسب «تاکنون») همه\u200cی درآمد پیش از پایان دوره '
        'تقسیم بر همین حساب\u200cهاست.',
    'Churn: a customer account at least 365 days old (since its first revenue) with '
    'no revenue in the 365 days before the period end; churn rate = churned / '
    'customer accounts at least 365 days old, over every customer account in scope, '
    'per acquiring rep and for the scope. Expansion per account: expansion revenue / '
    'accounts, per account manager.':
        'ریزش: حساب مشتری\u200cای که دست\u200cکم ۳۶۵ روز از نخستین درآمدش گذشته و در ۳۶۵ روز '
        'پیش از پایان دوره درآمدی نداشته است؛ نرخ ریزش = حساب\u200cهای ریزش\u200cکرده / '
        'حساب\u200cهای مشتری دست\u200cکم ۳۶۵ روزه، روی همه\u200cی حساب\u200cهای مشتری این دامنه، برای هر '
        'جذب\u200cکننده و برای کل دامنه. گسترش هر حساب: درآمد گسترش / حساب\u200cها، برای هر '
        'مدیر حساب.',
    'Acquirer value, normalised for account age: value per account-year = revenue to '
    "date of the rep's accounts / their account-years (years since each account's "
    "first revenue, at least one year per account, so a young account's first deal is"
    ' not annualised upwards); first-year value = mean revenue in the first 365 days '
    "of the rep's accounts that are at least 365 days old (the same window for every "
    'cohort).':
        'ارزش جذب\u200cکننده، هم\u200cسنگ\u200cشده با عمر حساب: ارزش هر حساب-سال = درآمد تاکنون '
        'حساب\u200cهای او / حساب-سال\u200cهای آن\u200cها (سال\u200cهای گذشته از نخستین درآمد هر حساب، '
        'دست\u200cکم یک سال برای هر حساب، تا نخستین معامله\u200cی یک حساب جوان به کل سال تعمیم '
        'داده نشود)؛ ارزش سال نخست = میانگین درآمد ۳۶۵ روز نخست حساب\u200cهای دست\u200cکم ۳۶۵ '
        'روزه\u200cی او (بازه\u200cای یکسان برای هر گروه ورودی).',
    'Customer lifetime value (predicted): revenue each account is expected to bring '
    'over the horizon in params/report.yaml (clv.horizon_months), discounted month by'
    ' month at the annual rate clv.discount_rate (month k counts 1 / (1 + rate)^(k / '
    "12)), from the model that backtests best on this company's revenue (BG/NBD with "
    'average spend, BG/NBD with Gamma-Gamma spend, RFM segments, a gradient-boosted '
    'regressor or shifted-beta-geometric retention), scored by |aggregate error| + (1'
    ' - Spearman) on the last 6 months held out (undiscounted, as booked); averaged '
    'per acquiring rep and account manager. Gamma-Gamma spend uses each repeat '
    "customer's mean over positive repeat purchases; zero-value lines are counted and"
    ' left out.':
        'ارزش طول عمر مشتری (پیش\u200cبینی\u200cشده): درآمدی که انتظار می\u200cرود هر حساب در افق '
        'تعیین\u200cشده در params/report.yaml (clv.horizon_months) بیاورد، ماه به ماه با '
        'نرخ سالانه\u200cی clv.discount_rate تنزیل\u200cشده (ماه k با ضریب 1 / (1 + rate)^(k / '
        '12))، از مدلی که در آزمون گذشته\u200cنگر روی درآمد همین شرکت بهترین است (BG/NBD '
        'با میانگین هزینه، BG/NBD با هزینه\u200cی گاما-گاما، بخش\u200cبندی RFM، رگرسیون تقویت '
        'گرادیانی یا ماندگاری بتا-هندسی انتقال\u200cیافته)، با امتیاز |خطای کل| + (1 - '
        'اسپیرمن) روی ۶ ماه آخرِ کنارگذاشته (تنزیل\u200cنشده، همان\u200cگونه که ثبت شده)؛ برای '
        'هر جذب\u200cکننده و مدیر حساب میانگین گرفته می\u200cشود. هزینه\u200cی گاما-گاما میانگین '
        'خریدهای تکراری مثبت هر مشتری تکراری است؛ ردیف\u200cهای با مبلغ صفر شمرده و کنار '
        'گذاشته می\u200cشوند.',
    'Deal size: mean and median amount of deals won in the period (closed_at in the '
    'period, status won), in the reporting currency; a zero-amount win counts (in the'
    ' bands too, in the smallest band), a missing amount does not. The histogram '
    'shows every won deal of the period, zero-amount wins in a bar of their own.':
        'اندازه\u200cی معامله: میانگین و میانه\u200cی مبلغ معاملات برده در این دوره (closed_at '
        'در دوره، وضعیت برده)، به ارز گزارش؛ معامله\u200cی برده با مبلغ صفر شمرده می\u200cشود '
        '(در دسته\u200cها نیز، در دسته\u200cی کوچک) و معامله\u200cی بی\u200cمبلغ شمرده نمی\u200cشود. نمودار '
        'توزیع همه\u200cی معاملات برده\u200cی دوره را نشان می\u200cدهد و معاملات با مبلغ صفر را در '
        'ستونی جداگانه.',
    'Band reference: band edges learned on the won deals of the 12 months before a '
    "period end, kept per store (resolved path and a stable id: the store's first "
    'ingest batch) and per profile set (report.yaml profiles). A report uses the '
    'newest reference of its store and profile set whose window ended by the period '
    'end, so a deal keeps its band from month to month and no edges learned on later '
    'deals are applied; without one, a reference is learned for the period. '
    'Zero-amount wins count as won deals in the smallest band, as they count in the '
    'average deal size.':
        'مبنای دسته\u200cها: مرزهای دسته که روی معاملات برده\u200cی ۱۲ ماه پیش از پایان یک دوره'
        ' آموخته شده\u200cاند، جداگانه برای هر پایگاه داده (مسیر کامل و شناسه\u200cای پایدار: '
        'نخستین دسته\u200cی بارگذاری آن) و هر مجموعه\u200cی نیم\u200cرخ (profiles در report.yaml). '
        'هر گزارش تازه\u200cترین مبنای پایگاه داده و مجموعه\u200cی نیم\u200cرخ خود را به کار می\u200cبرد '
        'که بازه\u200cاش تا پایان دوره تمام شده باشد؛ پس هر معامله از ماهی به ماه دیگر در '
        'همان دسته می\u200cماند و هیچ مرزی که روی معاملات بعدی آموخته شده به کار نمی\u200cرود؛ '
        'اگر چنین مبنایی نباشد، مبنایی برای همین دوره آموخته می\u200cشود. معاملات برده با '
        'مبلغ صفر، همان\u200cگونه که در میانگین اندازه\u200cی معامله شمرده می\u200cشوند، در '
        'کوچک\u200cترین دسته شمرده می\u200cشوند.',
    'Band drift: population stability index PSI = sum over bands of (c - r) ln(c / r)'
    " between the period's won deals (c, shares floored at 0.0001) and a baseline "
    'that does not contain the period (r): the reference window when it ended by the '
    'period start, otherwise the 12 months before the period start under the same '
    "edges. Below 30 won deals in the period or in the baseline it says 'too few "
    "deals'. Under 0.1 stable, 0.1-0.25 some drift, above 0.25 refresh the reference.":
        'جابه\u200cجایی دسته\u200cها: شاخص پایداری جمعیت PSI = مجموع (c - r) ln(c / r) روی '
        'دسته\u200cها، میان معاملات برده\u200cی دوره (c، سهم\u200cها با کف ۰٫۰۰۰۱) و مبنایی که این '
        'دوره را در بر ندارد (r): بازه\u200cی خود مبنا اگر تا آغاز دوره تمام شده باشد، '
        'وگرنه ۱۲ ماه پیش از آغاز دوره با همان مرزها. با کمتر از ۳۰ معامله\u200cی برده در '
        'دوره یا در مبنا، «معاملات کافی نیست» گفته می\u200cشود. زیر ۰٫۱ پایدار، ۰٫۱ تا '
        '۰٫۲۵ اندکی جابه\u200cجایی، بالای ۰٫۲۵ مبنا را تازه کنید.',
    "Rep scorecards": "کارنامه‌ی کارشناسان فروش",
    "Scope": "دامنه",
    "Period": "دوره",
    "Data as of": "داده‌ها تا",
    "Generated": "تهیه‌شده در",
    "unknown": "نامعلوم",
    "All regions": "همه‌ی مناطق",
    "Executive summary": "خلاصه‌ی مدیریتی",
    "Top findings": "یافته‌های اصلی",
    # issue 16: page one (header, tiles, the five verdicts, findings) and the plain body
    "The five metrics": "پنج شاخص",
    "not rated": "رتبه‌بندی نشده",
    "no baseline set": "مبنایی تعیین نشده",
    "Conversion": "تبدیل", "Sales cycle": "چرخه‌ی فروش", "Deal size": "اندازه‌ی معامله",
    "Customer value": "ارزش مشتری", "Open opportunities": "فرصت‌های باز",
    "win rate {rate}": "نرخ برد {rate}",
    "median {n}": "میانه {n}",
    "average {value}": "میانگین {value}",
    "{value} per paying account": "{value} برای هر حساب پرداخت‌کننده",
    "{n} per rep": "{n} برای هر کارشناس",
    "{share} of capacity": "{share} از ظرفیت",
    "{share} stale": "{share} راکد",
    "no capacity or activity dates to judge": "ظرفیت یا تاریخ فعالیتی برای داوری نیست",
    "good from {good}, bad below {bad}": "خوب از {good}، ضعیف کمتر از {bad}",
    "good up to {good}, bad above {bad}": "خوب تا {good}، ضعیف بیشتر از {bad}",
    "{x}x coverage of the {quarter} quota still to go":
        "پوشش {x} برابری سهمیه‌ی باقی‌مانده‌ی {quarter}",
    "{x}x coverage of the {period} quota": "پوشش {x} برابری سهمیه‌ی {period}",
    "no quota to cover": "سهمیه‌ای برای پوشش نیست",
    "no quota set for the period": "برای این دوره سهمیه‌ای تعیین نشده",
    "all deals": "همه‌ی معاملات",
    "time to win counting the deals still open: {n} days":
        "زمان تا برد با شمردن معاملات هنوز باز: {n} روز",
    "reps to the right close many deals, reps higher up take longer; top-right reps close "
    "many deals slowly, which is a story about their deal mix, not an error. 'To win, incl. "
    "open' is the median days to win counting the deals still open, which a median of won "
    "deals leaves out.":
        "کارشناسان سمت راست معاملات بیشتری می‌بندند و کارشناسان بالاتر زمان بیشتری صرف "
        "می‌کنند؛ بالا-راست یعنی معاملات زیاد اما کند، که داستانِ ترکیب معاملات است نه خطا. "
        "«تا برد، با باز» میانه‌ی روز تا برد است با شمردن معاملات هنوز باز، که میانه‌ی "
        "معاملات برده آن‌ها را کنار می‌گذارد.",
    "Deal sizes small, medium and large, as learned from the deals won from {start} to "
    "{end}: {parts}.":
        "اندازه‌ی معاملات کوچک، متوسط و بزرگ، آن‌گونه که از معاملات برده از {start} تا {end} "
        "آموخته شد: {parts}.",
    "Deal sizes small, medium and large, as learned from the last 12 months of won deals: "
    "{parts}.":
        "اندازه‌ی معاملات کوچک، متوسط و بزرگ، آن‌گونه که از معاملات برده‌ی ۱۲ ماه گذشته "
        "آموخته شد: {parts}.",
    "This period's deal sizes have moved away from those sizes: the bands are due to be "
    "learned again (see the appendix).":
        "اندازه‌ی معاملات این دوره از آن اندازه‌ها فاصله گرفته است: دسته‌ها باید دوباره "
        "آموخته شوند (پیوست را ببینید).",
    "This period's deal sizes differ a little from those sizes.":
        "اندازه‌ی معاملات این دوره اندکی با آن اندازه‌ها فرق دارد.",
    "Lifetime value = the revenue each account is expected to bring over the next {months} "
    "months, discounted at {rate} a year, from the method that predicted the last {holdout} "
    "months of this company's revenue best (see the appendix).":
        "ارزش طول عمر = درآمدی که انتظار می‌رود هر حساب در {months} ماه آینده بیاورد، با نرخ "
        "تنزیل سالانه‌ی {rate}، از روشی که درآمد {holdout} ماه گذشته‌ی این شرکت را بهتر از "
        "همه پیش‌بینی کرد (پیوست را ببینید).",
    "The models of this report": "مدل‌های این گزارش",
    "Deal-size bands: KMeans (3 clusters) on log amounts of the last 12 months of won "
    "deals, learned in this run.":
        "دسته‌های اندازه‌ی معامله: KMeans (سه خوشه) روی لگاریتم مبالغ معاملات برده‌ی ۱۲ ماه "
        "گذشته، آموخته‌شده در همین اجرا.",
    "Deal-size bands of this report: KMeans on log amounts, learned for this store on the "
    "deals won from {start} to {end}. Drift of the whole company's won deals in this period "
    "against a window without it: {drift}. Refresh with --refresh-bands.":
        "دسته‌های اندازه‌ی معامله‌ی این گزارش: KMeans روی لگاریتم مبالغ، آموخته‌شده برای همین "
        "پایگاه داده روی معاملات برده از {start} تا {end}. جابه‌جایی معاملات برده‌ی کل شرکت "
        "در این دوره در برابر بازه‌ای که این دوره را در بر ندارد: {drift}. با "
        "‎--refresh-bands‎ تازه کنید.",
    "Lifetime value of this report: the {model} model, chosen by backtest on the last "
    "{holdout} months ({n} accounts): aggregate error {err} (naive baseline {base_err}), "
    "Spearman rank correlation {rho} (baseline {base_rho}), top-decile capture {top}. Scores "
    "(lower is better): {scores}.":
        "ارزش طول عمر در این گزارش: مدل {model}، برگزیده با آزمون گذشته‌نگر روی {holdout} ماه "
        "آخر ({n} حساب): خطای کل {err} (مبنای ساده {base_err})، همبستگی رتبه‌ای اسپیرمن {rho} "
        "(مبنا {base_rho})، سهم دهک بالا {top}. امتیازها (کمتر بهتر است): {scores}.",
    "vs prev.": "نسبت به دوره‌ی قبل",
    "vs last year": "نسبت به پارسال",
    "How to read this:": "راهنمای خواندن:",
    "Not computable from this data:": "با این داده‌ها قابل محاسبه نیست:",
    "Showing {shown} of {total} rows.": "{shown} ردیف از {total} ردیف نمایش داده شده است.",
    "good": "خوب", "watch": "مراقبت", "bad": "ضعیف",
    "too few deals to judge": "معاملات برای داوری کافی نیست",
    "1. Conversion": "۱. نرخ تبدیل",
    "2. Sales cycle length": "۲. طول چرخه‌ی فروش",
    "3. Deal size": "۳. اندازه‌ی معامله",
    "4. Customer value": "۴. ارزش مشتری",
    "5. Open opportunities": "۵. فرصت‌های باز",
    "Appendix A: Data quality": "پیوست الف: کیفیت داده",
    "pp": "واحد درصد",  # percentage points, of a change in a rate
    "Appendix C: Methodology": "پیوست پ: روش‌شناسی",
    "Appendix B: Methodology": "پیوست ب: روش‌شناسی",
    "Appendix B: Deals behind the findings": "پیوست ب: معامله‌های پشت یافته‌ها",
    "Rows loaded and quarantined": "ردیف‌های بارگذاری‌شده و قرنطینه‌شده",
    "Quarantine reasons": "دلایل قرنطینه",
    "Metrics not computable from this data": "شاخص‌هایی که با این داده‌ها محاسبه‌پذیر نیستند",
    "No ingest has been recorded in this store.": "هیچ ورود داده‌ای در این انبار ثبت نشده است.",
    "No rows were quarantined.": "هیچ ردیفی قرنطینه نشد.",
    "Rows kept with a data-quality note": "ردیف‌های نگه‌داشته با یادداشت کیفیت داده",
    "Every metric could be computed.": "همه‌ی شاخص‌ها محاسبه شدند.",
    "file": "پرونده", "table": "جدول", "read": "خوانده", "loaded": "بارگذاری",
    "quarantined": "قرنطینه", "reason": "دلیل", "rows": "ردیف",
    "Periods are whole calendar days in the reporting time zone (timezone in "
    "params/report.yaml); only complete periods are reported. Ratings compare a figure with "
    "the baselines in params/baselines.yaml: good, watch or bad.":
        "دوره‌ها روزهای کامل تقویمی در منطقه‌ی زمانی گزارش (timezone در params/report.yaml) "
        "هستند؛ فقط دوره‌های کامل گزارش می‌شوند. رتبه‌بندی هر رقم را با مبناهای "
        "params/baselines.yaml مقایسه می‌کند: خوب، مراقبت یا ضعیف.",
    "Team median": "میانه‌ی تیم",
    "Figure": "شاخص",
    "Rating / note": "رتبه / توضیح",
    "Findings": "یافته‌ها",
    "compared with the median rep of the team": "در مقایسه با کارشناس میانه‌ی تیم",
    "profile": "الگو",
    "no team": "بدون تیم",
    # how to read
    "the trend shows the monthly win rate in its baseline band (green good, amber watch, "
    "red bad); the funnel shows where closed deals stopped; per rep, a long grey bar means "
    "too few deals to judge.":
        "روند، نرخ برد ماهانه را در نوار مبنا نشان می‌دهد (سبز خوب، زرد مراقبت، قرمز ضعیف)؛ "
        "قیف نشان می‌دهد معاملات بسته‌شده در کجا متوقف شدند؛ برای هر کارشناس، نوار خاکستری "
        "بلند یعنی معاملات برای داوری کافی نیست.",
    "reps to the right close many deals, reps higher up take longer; top-right reps close "
    "many deals slowly, which is a story about their deal mix, not an error. 'Incl. open' "
    "counts deals still open, which a closed-only median leaves out.":
        "کارشناسان سمت راست معاملات بیشتری می‌بندند و کارشناسان بالاتر زمان بیشتری صرف "
        "می‌کنند؛ بالا-راست یعنی معاملات زیاد اما کند، که داستانِ ترکیب معاملات است نه خطا. "
        "«با باز» معاملات هنوز باز را هم می‌شمارد که میانه‌ی معاملات بسته آن‌ها را کنار می‌گذارد.",
    "the histogram uses a log scale, so each step right is ten times larger; dashed lines "
    "are the band edges. The mix chart compares each rep with the team and target.":
        "محور افقی لگاریتمی است، پس هر گام به راست ده برابر بزرگ‌تر است؛ خط‌چین‌ها مرز "
        "دسته‌ها هستند. نمودار ترکیب، هر کارشناس را با تیم و هدف مقایسه می‌کند.",
    "acquirers whose customers churn point at the wrong customers; account managers whose "
    "accounts expand (or do not) point at how accounts are run.":
        "جذب‌کنندگانی که مشتریانشان ریزش دارند یعنی مشتری نامناسب؛ مدیران حسابی که "
        "حساب‌هایشان رشد می‌کند (یا نمی‌کند) یعنی کیفیت اداره‌ی حساب.",
    "bars are open deals at period end (orange: stale); the red tick is the rep's capacity. "
    "The heatmap shows where old deals pile up by stage.":
        "میله‌ها معاملات باز در پایان دوره‌اند (نارنجی: راکد)؛ خط قرمز ظرفیت کارشناس است. "
        "نقشه‌ی حرارتی نشان می‌دهد معاملات قدیمی در کدام مرحله انباشته شده‌اند.",
    # KPI tiles
    "Win rate": "نرخ برد",
    "Median cycle (won)": "میانه‌ی چرخه (برده)",
    "Average won deal": "میانگین معامله‌ی برده",
    "Revenue per account": "درآمد هر حساب",
    "Open deals per rep": "معاملات باز هر کارشناس",
    "{n} days": "{n} روز",
    "{won} won / {closed} closed": "{won} برده از {closed} بسته",
    "; leads converted {rate}": "؛ تبدیل سرنخ {rate}",
    "incl. open deals: {n} days": "با معاملات باز: {n} روز",
    "created to closed": "از ایجاد تا بستن",
    "median {value}": "میانه {value}",
    "to date; {rate} of year-old accounts churned": "تاکنون؛ {rate} از حساب‌های یک‌ساله ریزش کرده‌اند",
    "to date, accounts in scope": "تاکنون، حساب‌های این دامنه",
    "{stale} of {open} stale": "{stale} از {open} راکد",
    "; {months} months of pipeline": "؛ {months} ماه قیف",
    # tables
    "Win rate by rep": "نرخ برد به تفکیک کارشناس",
    "Cycle length by rep (days)": "طول چرخه به تفکیک کارشناس (روز)",
    "Won deal size by rep": "اندازه‌ی معاملات برده به تفکیک کارشناس",
    "Open pipeline by rep at period end": "قیف باز به تفکیک کارشناس در پایان دوره",
    "Customer value by acquiring rep": "ارزش مشتری به تفکیک جذب‌کننده",
    "Customer value by account manager": "ارزش مشتری به تفکیک مدیر حساب",
    "Rep": "کارشناس", "Won": "برده", "Lost": "باخته", "Rating": "رتبه", "Created": "ایجادشده",
    "Median won": "میانه‌ی برده", "Mean won": "میانگین برده", "Median lost": "میانه‌ی باخته",
    "Incl. open": "با باز", "Average": "میانگین", "Median": "میانه", "Open": "باز",
    "Stale": "راکد", "Value": "ارزش", "Capacity": "ظرفیت", "Months": "ماه",
    "Lost tired": "باخت پس از رکود", "Acquired by": "جذب‌کننده", "Accounts": "حساب‌ها",
    "Avg revenue": "میانگین درآمد", "Predicted 12m": "پیش‌بینی ۱۲ ماه", "Churned": "ریزش",
    "Total revenue": "کل درآمد", "Account manager": "مدیر حساب",
    "Expansion / account": "گسترش / حساب",
    # scorecard rows
    "Deals won": "معاملات برده", "Deals lost": "معاملات باخته",
    "Median cycle of won deals (days)": "میانه‌ی چرخه‌ی معاملات برده (روز)",
    "Median days to close incl. open deals": "میانه‌ی روز تا بستن با معاملات باز",
    "Median won deal": "میانه‌ی معامله‌ی برده",
    "Share of small deals": "سهم معاملات کوچک", "Share of medium deals": "سهم معاملات متوسط",
    "Share of large deals": "سهم معاملات بزرگ", "target {share}": "هدف {share}",
    "Open deals at period end": "معاملات باز در پایان دوره", "Stale open deals": "معاملات باز راکد",
    "Months of pipeline": "ماه‌های قیف", "Lost deals closed when stale": "باخت‌ها پس از رکود",
    "Open deals / capacity": "معاملات باز / ظرفیت",
    "Avg revenue of accounts won": "میانگین درآمد حساب‌های جذب‌شده",
    "Churn of accounts won": "ریزش حساب‌های جذب‌شده",
    "Predicted 12-month value per account won": "ارزش پیش‌بینی ۱۲ ماهه‌ی هر حساب جذب‌شده",
    "Expansion per account managed": "گسترش هر حساب تحت مدیریت",
    # notes
    "Deal-size bands (learned on the last 12 months of won deals, KMeans on log amounts): "
    "{parts}.": "دسته‌های اندازه‌ی معامله (آموخته‌شده از معاملات برده‌ی ۱۲ ماه گذشته، "
    "KMeans روی لگاریتم مبلغ): {parts}.",
    "{profile}: small < {small}, medium to {large}, large above":
        "{profile}: کوچک کمتر از {small}، متوسط تا {large}، بزرگ بیشتر",
    "{profile} PSI {psi} ({verdict})": "{profile}: PSI {psi} ({verdict})",
    "stable": "پایدار", "some drift": "اندکی جابه‌جایی", "refresh the reference": "مبنا را تازه کنید",
    "Reference learned for {period}; this period's drift: {drift}. Refresh with "
    "--refresh-bands.": "مبنا برای {period} آموخته شده است؛ جابه‌جایی این دوره: {drift}. "
    "برای تازه کردن: --refresh-bands.",
    "No deal-size bands: no won deals.": "دسته‌بندی اندازه‌ی معامله ممکن نشد: معامله‌ی برده‌ای نیست.",
    "No customer-value model: the data has no revenue table.":
        "مدل ارزش مشتری ساخته نشد: داده‌ها جدول درآمد ندارند.",
    "No customer-value model could be fitted: {error}.": "هیچ مدل ارزش مشتری برازش نشد: {error}.",
    "Predicted value = revenue expected over the next {days} days from the {model} model, "
    "chosen by backtest on the last {months} months ({n} accounts): aggregate error "
    "{err} (naive baseline {base_err}), Spearman rank correlation {rho} (baseline "
    "{base_rho}), top-decile capture {top}. Scores (lower is better): {scores}.":
        "ارزش پیش‌بینی‌شده = درآمد مورد انتظار در {days} روز آینده از مدل {model}، که با "
        "آزمون گذشته‌نگر روی {months} ماه اخیر ({n} حساب) انتخاب شد: خطای کل {err} (مبنای "
        "ساده {base_err})، همبستگی رتبه‌ای اسپیرمن {rho} (مبنا {base_rho})، سهم دهک بالا "
        "{top}. امتیازها (کمتر بهتر): {scores}.",
    # findings
    "{rep} holds {n:.0f} open opportunities, {ratio:.1f}x the {team} median of {median:.0f}; "
    "{stale:.0%} are stale.":
        "{rep} {n:.0f} فرصت باز دارد، {ratio:.1f} برابر میانه‌ی {team} ({median:.0f})؛ "
        "{stale:.0%} راکدند.",
    "{rep} closed {n:.0f} deals (the {team} median: {median_n:.0f}) but with a median cycle "
    "of {cycle:.0f} days, {ratio:.1f}x the {team} median of {median:.0f}: many deals, "
    "slowly.":
        "{rep} {n:.0f} معامله بست (میانه‌ی {team}: {median_n:.0f}) اما با میانه‌ی چرخه‌ی "
        "{cycle:.0f} روز، {ratio:.1f} برابر میانه‌ی {team} ({median:.0f}): معاملات زیاد، "
        "آهسته.",
    "{rep}'s median won deal is {amount:,.0f}, {share:.0%} of the {team} median "
    "({median:,.0f}): mostly small deals.":
        "میانه‌ی معامله‌ی برده‌ی {rep} {amount:,.0f} است، {share:.0%} میانه‌ی {team} "
        "({median:,.0f}): بیشتر معاملات کوچک.",
    "{rep}'s won customers churn: {churn:.0%} of the accounts they acquired (a year old or "
    "more) stopped buying, against {median:.0%} for {profile} peers; average value "
    "{value:,.0f}.":
        "مشتریان جذب‌شده‌ی {rep} ریزش می‌کنند: {churn:.0%} از حساب‌های جذب‌شده (یک‌ساله و "
        "بیشتر) خرید را متوقف کرده‌اند، در برابر {median:.0%} برای همتایان {profile}؛ "
        "میانگین ارزش {value:,.0f}.",
    "{rep}'s accounts expand: {value:,.0f} of expansion revenue per account, {ratio:.1f}x "
    "the {profile} account managers' median of {median:,.0f}.":
        "حساب‌های {rep} رشد می‌کنند: {value:,.0f} درآمد گسترش برای هر حساب، {ratio:.1f} "
        "برابر میانه‌ی مدیران حساب {profile} ({median:,.0f}).",
    "{rep} closed {tired:.0f} of {lost:.0f} lost deals ({share:.0%}) only after they had "
    "gone stale, against a median of {median:.0%}: deals are given up, not disqualified.":
        "{rep} {tired:.0f} از {lost:.0f} معامله‌ی باخته ({share:.0%}) را تنها پس از راکد "
        "شدن بست، در برابر میانه‌ی {median:.0%}: معاملات رها می‌شوند، نه رد صلاحیت.",
    "The funnel leaks most at {stage}: {rate:.0%} of the {reached:.0f} closed deals that "
    "reached it went on to {next}; {lost:.0f} were lost there.":
        "بیشترین نشت قیف در {stage} است: {rate:.0%} از {reached:.0f} معامله‌ی بسته‌ای که "
        "به آن رسیدند به {next} رفتند؛ {lost:.0f} همان‌جا باختند.",
    # methodology (metrics.DEFINITIONS)
    'Win rate: won / (won + lost) among opportunities whose closed_at falls in the period; open deals are excluded. The 95% Wilson score interval shows how sure the rate is; with fewer deals the interval is wider.':
        'نرخ برد: برده / (برده + باخته) در میان فرصت\u200cهایی که تاریخ بسته شدنشان در دوره است؛ معاملات باز به حساب نمی\u200cآیند. بازه\u200cی ویلسون ۹۵٪ نشان می\u200cدهد این نرخ چقدر مطمئن است؛ هرچه معاملات کمتر، بازه پهن\u200cتر.',
    'Sales cycle length: days from created_at (entering the funnel) to closed_at, for deals closed in the period, reported separately for won and lost deals (median, 25th and 75th percentile, mean, count).':
        'طول چرخه\u200cی فروش: روزها از created_at (ورود به قیف) تا closed_at، برای معاملات بسته\u200cشده در دوره، جداگانه برای معاملات برده و باخته (میانه، صدک ۲۵ و ۷۵، میانگین، تعداد).',
    'Deal size: mean and median amount of deals won in the period (closed_at in the period, status won), in the reporting currency.':
        'اندازه\u200cی معامله: میانگین و میانه\u200cی مبلغ معاملات برده در دوره (closed_at در دوره، وضعیت برده)، به ارز گزارش.',
    'Customer value to date: total revenue booked per account up to the end of the period, by kind (new, renewal, expansion, one-off); averaged over the accounts each rep acquired (acquisition quality) and each account manager keeps.':
        'ارزش مشتری تاکنون: کل درآمد ثبت\u200cشده\u200cی هر حساب تا پایان دوره، به تفکیک نوع (جدید، تمدید، گسترش، یک\u200cباره)؛ میانگین آن برای حساب\u200cهایی که هر کارشناس جذب کرده (کیفیت جذب) و حساب\u200cهایی که هر مدیر حساب نگه می\u200cدارد.',
    "Open opportunities at period end (as-of view): deals with created_at before the period end that were not closed by then (a deal won later was open then). Stale: no activity (last_activity_at, else created_at) for the stale threshold in days before the period end. Load: open deals / the rep's capacity.":
        'فرصت\u200cهای باز در پایان دوره (نمای «تا آن لحظه»): معاملاتی که پیش از پایان دوره ایجاد شده و تا آن زمان بسته نشده\u200cاند (معامله\u200cای که بعداً برده شده، آن زمان باز بوده است). راکد: بدون فعالیت (آخرین فعالیت، وگرنه تاریخ ایجاد) به اندازه\u200cی آستانه\u200cی رکود پیش از پایان دوره. بار: معاملات باز / ظرفیت کارشناس.',
    'Cohort win rate: of the opportunities created in month M, the share won so far and the share won within 30, 60 and 90 days of creation; a horizon is shown only once the whole cohort has had that many days.':
        'نرخ برد هم\u200cگروهی: از فرصت\u200cهای ایجادشده در ماه M، سهم برده\u200cشده تاکنون و سهم برده\u200cشده در ۳۰، ۶۰ و ۹۰ روز پس از ایجاد؛ هر افق فقط وقتی نشان داده می\u200cشود که کل هم\u200cگروه آن تعداد روز را پشت سر گذاشته باشد.',
    'Lead conversion: leads created in the period that became an opportunity, divided by all leads created in the period; disqualified and still-open leads are counted apart.':
        'تبدیل سرنخ: سرنخ\u200cهای ایجادشده در دوره که به فرصت تبدیل شدند، تقسیم بر همه\u200cی سرنخ\u200cهای ایجادشده در دوره؛ سرنخ\u200cهای ردشده و هنوز باز جداگانه شمرده می\u200cشوند.',
    "Stage funnel: among deals closed in the period, those that reached each stage (its history shows that stage or a later one); conversion to the next stage = reached next / reached this one; 'lost here' = lost deals whose furthest stage it was.":
        'قیف مراحل: در میان معاملات بسته\u200cشده در دوره، آن\u200cهایی که به هر مرحله رسیدند (تاریخچه\u200cشان آن مرحله یا مرحله\u200cای بعدی را نشان می\u200cدهد)؛ تبدیل به مرحله\u200cی بعد = رسیده به بعدی / رسیده به این مرحله؛ «باخته در این\u200cجا» = معاملات باخته\u200cای که دورترین مرحله\u200cشان همین بوده است.',
    'Time to close incl. open deals: Kaplan-Meier median days from creation to close of deals created in the last 12 months, with deals still open counted as censored at the period end, so slow deals still open are not left out.':
        'زمان تا بستن با معاملات باز: میانه\u200cی کاپلان-مایر روزها از ایجاد تا بستن برای معاملات ایجادشده در ۱۲ ماه گذشته، با معاملات هنوز باز به\u200cعنوان داده\u200cی سانسورشده در پایان دوره، تا معاملات کند و هنوز باز از قلم نیفتند.',
    "Deal-size bands: small / medium / large learned per business profile by KMeans (k=3) on log10 amounts of deals won in the 12 months before the period end; edges are the geometric midpoints between cluster centres. Band mix: each rep's share of won deals per band against the team's and the target mix in params/report.yaml.":
        'دسته\u200cهای اندازه\u200cی معامله: کوچک / متوسط / بزرگ، برای هر الگوی کسب\u200cوکار با KMeans (k=3) روی لگاریتم مبلغ معاملات برده در ۱۲ ماه پیش از پایان دوره آموخته می\u200cشوند؛ مرزها نقطه\u200cی میانی هندسی میان مراکز خوشه\u200cها هستند. ترکیب دسته\u200cها: سهم هر کارشناس از معاملات برده در هر دسته در برابر ترکیب تیم و ترکیب هدف در params/report.yaml.',
    'Stale deal: open at period end with no activity (last activity, else last stage change, else creation) for the stale threshold in days, or older than the 90th percentile cycle of deals won in the last 12 months.':
        'معامله\u200cی راکد: معامله\u200cی باز در پایان دوره که به اندازه\u200cی آستانه\u200cی رکود (روز) فعالیتی نداشته (آخرین فعالیت، وگرنه آخرین تغییر مرحله، وگرنه ایجاد) یا عمرش از صدک ۹۰ چرخه\u200cی معاملات برده در ۱۲ ماه گذشته بیشتر است.',
    'Bloat (months of pipeline): open deals at period end / deals the rep closed (won or lost) per month over the last 6 months.':
        'حجم اضافی قیف (ماه\u200cهای قیف): معاملات باز در پایان دوره / معاملاتی که کارشناس در ۶ ماه گذشته ماهانه بسته است (برده یا باخته).',
    'Closed when tired: among deals lost in the period, the share whose last activity was more than the stale threshold before they were closed.':
        'بسته\u200cشده از سر خستگی: در میان معاملات باخته در دوره، سهم آن\u200cهایی که آخرین فعالیتشان بیش از آستانه\u200cی رکود پیش از بسته شدن بوده است.',
    'Churn: an account at least a year old with no revenue in the last 365 days; churn rate = churned / accounts at least a year old, per acquiring rep. Expansion per account: expansion revenue / accounts, per account manager.':
        'ریزش: حسابی که دست\u200cکم یک سال قدمت دارد و در ۳۶۵ روز گذشته درآمدی نداشته است؛ نرخ ریزش = حساب\u200cهای ریزش\u200cکرده / حساب\u200cهای دست\u200cکم یک\u200cساله، برای هر جذب\u200cکننده. گسترش هر حساب: درآمد گسترش / تعداد حساب\u200cها، برای هر مدیر حساب.',
    "Predicted customer value: revenue each account is expected to bring over the next 12 months, from the model that backtests best on this company's revenue (BG/NBD with average spend, Gamma-Gamma spend, RFM segments, a gradient-boosted regressor or shifted-beta-geometric retention), scored by |aggregate error| + (1 - Spearman) on the last 6 months held out; averaged per acquiring rep and account manager.":
        'ارزش پیش\u200cبینی\u200cشده\u200cی مشتری: درآمدی که انتظار می\u200cرود هر حساب در ۱۲ ماه آینده بیاورد، از مدلی که در آزمون گذشته\u200cنگر روی درآمد همین شرکت بهترین نتیجه را داده است (BG/NBD با میانگین خرید، گاما-گاما، بخش\u200cبندی RFM، رگرسور تقویت گرادیان یا ماندگاری بتا-هندسی انتقال\u200cیافته)، با امتیاز |خطای کل| + (۱ − اسپیرمن) روی ۶ ماه کنارگذاشته؛ میانگین برای هر جذب\u200cکننده و هر مدیر حساب.',
    "Ratings: good / watch / bad against params/baselines.yaml per business profile (team name patterns in params/report.yaml); a scope that mixes profiles is judged against the profiles' thresholds weighted by their share of deals closed; a win rate whose 95% interval is wider than max_interval_width is 'too few deals to judge'.":
        'رتبه\u200cبندی: خوب / مراقبت / ضعیف در برابر params/baselines.yaml برای هر الگوی کسب\u200cوکار (الگوهای نام تیم در params/report.yaml)؛ دامنه\u200cای که چند الگو را در بر دارد با آستانه\u200cهای وزن\u200cدار به نسبت معاملات بسته\u200cشده\u200cی هر الگو سنجیده می\u200cشود؛ نرخ بردی که بازه\u200cی ۹۵٪ آن از max_interval_width پهن\u200cتر باشد «معاملات برای داوری کافی نیست» است.',
    # charts
    "Cycle length of won deals per rep": "طول چرخه‌ی معاملات برده‌ی هر کارشناس",
    "days from created to won": "روز از ایجاد تا برد",
    "Win rate by month against the baseline (green good, red bad)":
        "نرخ برد ماهانه در برابر مبنا (سبز خوب، قرمز ضعیف)",
    "win rate (won / closed)": "نرخ برد (برده / بسته)", "month closed": "ماه بسته شدن",
    "95% interval": "بازه‌ی ۹۵٪", "win rate": "نرخ برد",
    "Stage-to-stage funnel of deals closed in the period": "قیف مرحله‌به‌مرحله‌ی معاملات بسته‌شده",
    "deals closed in the period that reached the stage": "معاملات بسته‌شده‌ای که به این مرحله رسیدند",
    "Win rate by rep, deals closed in the period": "نرخ برد هر کارشناس، معاملات بسته‌شده در دوره",
    "win rate (won / closed), bar = 95% interval": "نرخ برد (برده / بسته)، نوار = بازه‌ی ۹۵٪",
    "Deals closed vs cycle length per rep (lines: team medians)":
        "معاملات بسته‌شده در برابر طول چرخه (خطوط: میانه‌ها)",
    "deals closed in the period (won + lost)": "معاملات بسته‌شده در دوره (برده + باخته)",
    "median cycle of won deals (days)": "میانه‌ی چرخه‌ی معاملات برده (روز)",
    "won deal amount (log scale)": "مبلغ معامله‌ی برده (مقیاس لگاریتمی)", "deals": "معاملات",
    "Deal-size mix per rep against the team and target mix": "ترکیب اندازه‌ی معاملات هر کارشناس",
    "Won deal sizes": "اندازه‌ی معاملات برده",
    # charts (issue 16): annotations and titles with figures in them
    "{n}  ({rate} move on, {lost} lost here)":
        "{n}  ({rate} به مرحله‌ی بعد رفتند، {lost} در این مرحله باختند)",
    "{pushes} pushes, {deals} deals, {share} pushed 2+":
        "{pushes} تعویق، {deals} معامله، {share} دو بار یا بیشتر",
    "Pipeline movement, {group}": "تغییرات قیف، {group}",
    "(creation and close dates only)": "(فقط تاریخ‌های ایجاد و بستن)",
    "What moved sales velocity, {group}": "چه چیزی سرعت فروش {group} را تغییر داد",
    "average revenue to date per account": "میانگین درآمد تاکنون برای هر حساب",
    "No open deals": "معامله‌ی بازی نیست",
    "share of won deals in the period": "سهم از معاملات برده در دوره",
    "small": "کوچک", "medium": "متوسط", "large": "بزرگ", "team mix": "ترکیب تیم",
    "target mix": "ترکیب هدف",
    "Customer value per account, by acquiring rep": "ارزش مشتری برای هر حساب، به تفکیک جذب‌کننده",
    "Customer value per account, by account manager": "ارزش مشتری برای هر حساب، به تفکیک مدیر حساب",
    "revenue per account: predicted next 12 months (or to date without a model)":
        "درآمد هر حساب: پیش‌بینی ۱۲ ماه آینده (یا تاکنون، بدون مدل)",
    "Churn of the accounts each rep acquired": "ریزش حساب‌های جذب‌شده‌ی هر کارشناس",
    "accounts a year old or more that stopped buying": "حساب‌های یک‌ساله و بیشتر که خرید را متوقف کردند",
    "Predicted 12-month value per account, by account manager":
        "ارزش پیش‌بینی ۱۲ ماهه‌ی هر حساب، به تفکیک مدیر حساب",
    "predicted revenue per account, next 12 months": "درآمد پیش‌بینی‌شده‌ی هر حساب، ۱۲ ماه آینده",
    "Expansion revenue per account, by account manager": "درآمد گسترش هر حساب، به تفکیک مدیر حساب",
    "expansion revenue per account to date": "درآمد گسترش هر حساب تاکنون",
    "Open pipeline per rep against capacity": "قیف باز هر کارشناس در برابر ظرفیت",
    "open opportunities at period end": "فرصت‌های باز در پایان دوره",
    "active": "فعال", "stale": "راکد", "capacity": "ظرفیت",
    "Open deals by stage and age": "معاملات باز به تفکیک مرحله و عمر",
    "age of the open deal (days since created)": "عمر معامله‌ی باز (روز از ایجاد)",
    "stage at period end": "مرحله در پایان دوره",
    # issue 11: pipeline, cycle, conversion
    "Lead conversion": "تبدیل سرنخ",
    "Open pipeline value": "ارزش قیف باز",
    "not computable": "محاسبه‌پذیر نیست",
    "created to won": "از ایجاد تا برد",
    "time to win incl. open deals: {n} days (Aalen-Johansen)":
        "زمان تا برد با معاملات باز: {n} روز (آلن-یوهانسن)",
    "{load} of capacity": "{load} از ظرفیت",
    "no capacity: load not rated": "بدون ظرفیت: بار کاری رتبه‌بندی نشد",
    "{open} open deals; {unknown} ({share}) without an amount known then":
        "{open} معامله‌ی باز؛ {unknown} ({share}) بدون مبلغِ معلوم در آن زمان",
    "no open deals": "معامله‌ی بازی نیست",
    "no activity dates or stage history to judge it":
        "تاریخ فعالیت یا سابقه‌ی مرحله برای داوری نیست",
    "{unknown} of {open} open deals: state unknown":
        "{unknown} از {open} معامله‌ی باز: وضعیت نامعلوم",
    "{stale} of {known} open deals without a touch for the stale threshold":
        "{stale} از {known} معامله‌ی باز بدون هیچ اقدامی به اندازه‌ی آستانه‌ی رکود",
    "; {n} unknown": "؛ {n} نامعلوم",
    "needs the leads table": "جدول سرنخ‌ها لازم است",
    "no leads created in the period": "در این دوره سرنخی ایجاد نشده است",
    "not rated yet: the period's leads mature on {date} ({days}-day horizon)":
        "هنوز رتبه‌بندی نشده: سرنخ‌های دوره در {date} به بلوغ می‌رسند (افق {days} روزه)",
    "of {n} leads created in the period, converted within {days} days":
        "از {n} سرنخ ایجادشده در دوره، تبدیل‌شده ظرف {days} روز",
    "stale state unknown": "وضعیت رکود نامعلوم",
    "all open deals": "همه‌ی معاملات باز", "stage unknown": "مرحله نامعلوم",
    "Share of open deals stale": "سهم معاملات باز راکد",
    "To win, incl. open": "تا برد، با باز", "No amount": "بی‌مبلغ", "Load": "بار کاری",
    "Median days to win incl. open deals": "میانه‌ی روز تا برد با معاملات باز",
    "Open deals by age (no stage history: stage at period end unknown)":
        "معاملات باز به تفکیک عمر (بدون سابقه‌ی مرحله: مرحله در پایان دوره نامعلوم)",
    "{rep} holds {n:.0f} open opportunities, {ratio:.1f}x the {team} median of {median:.0f}.":
        "{rep} {n:.0f} فرصت باز دارد، {ratio:.1f} برابر میانه‌ی {team} یعنی {median:.0f}.",
    # sections
    "reps to the right close many deals, reps higher up take longer; top-right reps close "
    "many deals slowly, which is a story about their deal mix, not an error. 'To win, incl. "
    "open' is the median days to win counting the deals still open (Aalen-Johansen, losses "
    "as a competing outcome), which a median of won deals leaves out.":
        "کارشناسان سمت راست معاملات بیشتری می‌بندند و کارشناسان بالاتر زمان بیشتری صرف "
        "می‌کنند؛ بالا-راست یعنی معاملات زیاد اما کند، که داستانِ ترکیب معاملات است نه خطا. "
        "«تا برد، با باز» میانه‌ی روز تا برد است با شمردن معاملات هنوز باز (آلن-یوهانسن، با "
        "باخت به‌عنوان پیامد رقیب)، که میانه‌ی معاملات برده آن‌ها را کنار می‌گذارد.",
    "bars are open deals at period end (orange: stale, no touch for the stage's stale "
    "threshold); the red tick is the rep's capacity. The heatmap shows where old deals pile "
    "up by the stage they were in at period end.":
        "میله‌ها معاملات باز در پایان دوره‌اند (نارنجی: راکد، بی‌اقدام به اندازه‌ی آستانه‌ی "
        "رکود آن مرحله)؛ خط قرمز ظرفیت کارشناس است. نقشه‌ی حرارتی نشان می‌دهد معاملات کهنه "
        "در کدام مرحله (مرحله‌ی پایان دوره) انباشته شده‌اند.",
    # not computable
    "no opportunities": "فرصتی نیست",
    "opportunities have no amount column": "فرصت‌ها ستون مبلغ ندارند",
    "needs the revenue and accounts tables (account_id, date, amount, kind)":
        "جدول‌های درآمد و حساب‌ها لازم است (account_id، date، amount، kind)",
    "opportunities have no last_activity_at and there is no stage history: a deal's age "
    "alone does not show that nobody works it, so staleness is not rated":
        "فرصت‌ها last_activity_at ندارند و سابقه‌ی مرحله نیست: عمر معامله به‌تنهایی نشان "
        "نمی‌دهد که کسی روی آن کار نمی‌کند، پس رکود رتبه‌بندی نمی‌شود",
    "needs last_activity_at (when a lost deal was last worked)":
        "last_activity_at لازم است (آخرین بار که روی معامله‌ی باخته کار شد)",
    "needs the reps table with capacity for workload against capacity":
        "برای بار کاری در برابر ظرفیت، جدول کارشناسان با ظرفیت لازم است",
    "needs the stage_history table for stage-to-stage conversion":
        "برای تبدیل مرحله به مرحله، جدول stage_history لازم است",
    "needs the stage_history table (the stage each deal was in at the period end); open "
    "deals are shown by age only":
        "جدول stage_history لازم است (مرحله‌ی هر معامله در پایان دوره)؛ معاملات باز فقط به "
        "تفکیک عمر نشان داده می‌شوند",
    "{unknown} of {open} open deals have no amount known at the period end (closed since, "
    "or no amount): open value not computable":
        "{unknown} از {open} معامله‌ی باز در پایان دوره مبلغ معلوم ندارند (از آن پس بسته "
        "شده‌اند یا مبلغ ندارند): ارزش قیف باز محاسبه‌پذیر نیست",
    "the stale state of {unknown} of {open} open deals is unknown (worked after the period "
    "end, nothing known before): stale share not rated":
        "وضعیت رکود {unknown} از {open} معامله‌ی باز نامعلوم است (پس از پایان دوره روی آن‌ها "
        "کار شده و از پیش از آن چیزی معلوم نیست): سهم راکد رتبه‌بندی نشد",
    "the period's leads have not all had {days:.0f} days to convert (mature on {on}): not "
    "rated yet":
        "همه‌ی سرنخ‌های دوره هنوز {days:.0f} روز برای تبدیل فرصت نداشته‌اند (بلوغ در {on}): "
        "هنوز رتبه‌بندی نشده",
    # methodology
    "Cohort win rate: of the opportunities created in month M, the share won within 30, 60 "
    "and 90 days of creation; a horizon's rate exists only once the whole cohort has had "
    "that many days (no rate 'so far' for a cohort that is not mature).":
        "نرخ برد گروهی: از فرصت‌های ایجادشده در ماه M، سهمی که ظرف ۳۰، ۶۰ و ۹۰ روز از ایجاد "
        "برده شدند؛ نرخ هر افق فقط وقتی وجود دارد که کل گروه آن تعداد روز را گذرانده باشد "
        "(برای گروهی که بالغ نیست نرخ «تاکنون» نیست).",
    'Open opportunities at period end (as-of view): deals with created_at before the '
    'period end that were not closed by then (a deal won later was open then). Open '
    'value: the sum of the amounts known at the period end, never an amount set later: a '
    "deal's current amount counts only while the deal is still open (a deal won or lost "
    'since may have had its amount set by the close, so its amount then is unknown, '
    'unless an amount history gives the value it had). A missing amount is unknown, not '
    '0; the count and share of open deals without a known amount are shown, and the value'
    ' is not computable when more than half have none. Load: open deals / capacity of the'
    " reps with a capacity, rated against the 'load' baseline. Per rep, an open deal "
    "counts for its owner at the period end (the deal history's owner then).":
        'فرصت\u200cهای باز در پایان دوره (نمای هم\u200cزمان): معاملاتی که created_at آن\u200cها پیش از '
        'پایان دوره است و تا آن زمان بسته نشده بودند (معامله\u200cای که بعداً برده شد، آن زمان'
        ' باز بود). ارزش قیف باز: جمع مبلغ\u200cهایی که در پایان دوره معلوم بودند و هرگز مبلغی'
        ' که بعداً تعیین شد: مبلغ فعلی یک معامله فقط تا وقتی باز است شمرده می\u200cشود (مبلغ '
        'معامله\u200cای که از آن پس برده یا باخته شده ممکن است با بستن تعیین شده باشد، پس مبلغ'
        ' آن در آن زمان نامعلوم است، مگر آن\u200cکه سابقه\u200cی مبلغ، مقدار آن زمان را بدهد). مبلغ'
        ' خالی نامعلوم است، نه صفر؛ تعداد و سهم معاملات باز بدون مبلغ معلوم نشان داده '
        'می\u200cشود و اگر بیش از نیمی از آن\u200cها مبلغ نداشته باشند، ارزش محاسبه\u200cپذیر نیست. بار '
        'کاری: معاملات باز / ظرفیت کارشناسانی که ظرفیت دارند، در برابر مبنای load '
        'رتبه\u200cبندی می\u200cشود. در جدول هر کارشناس، هر معامله‌ی باز برای مالک آن در '
        'پایان دوره شمرده می\u200cشود (مالک آن زمان در سابقه‌ی معامله).',
    "Deal history: where the store holds a deal's versions (from the CRM's history, "
    "pulls, or full exports ingested over time), the open deals at a period end, their "
    "amount, stage, owner and days in stage are as the version in force just before "
    "the period end says. A change seen only between two monthly exports is dated at "
    "the later export. Deals the history does not reach back to follow the rule above.":
        "سابقه‌ی معامله: هر جا انبار نسخه‌های یک معامله را دارد (از سابقه‌ی خود CRM، دریافت "
        "مستقیم، یا خروجی‌های کاملی که در طول زمان وارد شده‌اند)، معاملات باز در پایان دوره و "
        "مبلغ، مرحله، مالک و روزهای ماندن در مرحله‌ی آن‌ها همان است که نسخه‌ی معتبرِ درست پیش "
        "از پایان دوره می‌گوید. تغییری که فقط میان دو خروجی ماهانه دیده شده، به تاریخ خروجی "
        "دوم ثبت می‌شود. معاملاتی که سابقه به آن زمان نمی‌رسد، از قاعده‌ی بالا پیروی می‌کنند.",
    'Stale deal (one definition for the headline, the rep tables, the findings and the '
    'rating): open at period end and its last touch before the period end (last activity,'
    ' last stage change or creation, whichever is latest) is more than the stale '
    'threshold before the period end; the threshold is stale_days in params/report.yaml, '
    'per stage where it is a mapping stage -> days (the stage the deal was in then; '
    "'default' for the others). A store keeps only the latest activity: a deal worked "
    "after the period end that would be stale on the rest of the evidence is 'unknown'. "
    'Stale share = stale / open deals whose state is known; not computable (and not '
    'rated) when more than half are unknown, or when the data has neither activity dates '
    'nor stage history (age alone does not show neglect). Deals older than the 90th '
    'percentile cycle of deals won in the last 12 months are counted apart, not as stale.':
        'معامله\u200cی راکد (یک تعریف برای خلاصه، جدول\u200cهای کارشناسان، یافته\u200cها و رتبه\u200cبندی): '
        'در پایان دوره باز است و آخرین اقدام روی آن پیش از پایان دوره (آخرین فعالیت، '
        'آخرین تغییر مرحله یا ایجاد، هر کدام دیرتر) بیش از آستانه\u200cی رکود پیش از پایان '
        'دوره بوده است؛ آستانه stale_days در params/report.yaml است، و اگر نگاشتی از '
        'مرحله به روز باشد برای هر مرحله جدا (مرحله\u200cای که معامله آن زمان در آن بود؛ '
        'default برای بقیه). انبار فقط آخرین فعالیت را نگه می\u200cدارد: معامله\u200cای که پس از '
        'پایان دوره روی آن کار شده و با بقیه\u200cی شواهد راکد می\u200cبود «نامعلوم» است. سهم راکد '
        '= راکدها / معاملات بازی که وضعیتشان معلوم است؛ اگر بیش از نیمی نامعلوم باشند، یا'
        ' داده نه تاریخ فعالیت داشته باشد نه سابقه\u200cی مرحله، محاسبه\u200cپذیر نیست و رتبه\u200cبندی '
        'نمی\u200cشود (عمر به\u200cتنهایی نشانه\u200cی بی\u200cتوجهی نیست). معاملاتی که از صدک ۹۰ چرخه\u200cی '
        'معاملات برده\u200cی ۱۲ ماه اخیر قدیمی\u200cترند جداگانه شمرده می\u200cشوند، نه به\u200cعنوان راکد.',
    'Lost when tired: among deals lost in the period, the share whose last activity was '
    'more than the stale threshold (of the stage they were lost from) before they were '
    'closed. Needs activity dates: without them it is not computable.':
        'باخت پس از رکود: از معاملات باخته\u200cی دوره، سهم آن\u200cهایی که آخرین فعالیتشان بیش از '
        'آستانه\u200cی رکود (مرحله\u200cای که در آن باخته شدند) پیش از بستن بود. به تاریخ فعالیت '
        'نیاز دارد: بدون آن محاسبه\u200cپذیر نیست.',
    'Lead conversion at a maturity horizon learned from the data: H = the 90th percentile'
    ' of days from creation to conversion of the leads converted so far (rounded up). '
    'Rate = leads created in the period that converted within H days of creation / leads '
    'created in the period, with the same H for the current period, the previous one and '
    'last year. A period is rated only once it is mature (period end + H before the data '
    'ends); before that it is shown as not rated yet.':
        'تبدیل سرنخ در افق بلوغی که از داده آموخته می\u200cشود: H = صدک ۹۰ روزهای از ایجاد تا '
        'تبدیلِ سرنخ\u200cهایی که تاکنون تبدیل شده\u200cاند (گرد به بالا). نرخ = سرنخ\u200cهای ایجادشده '
        'در دوره که ظرف H روز از ایجاد تبدیل شدند / سرنخ\u200cهای ایجادشده در دوره، با همان H '
        'برای دوره\u200cی جاری، دوره\u200cی قبل و پارسال. دوره فقط وقتی رتبه\u200cبندی می\u200cشود که بالغ '
        'باشد (پایان دوره + H پیش از پایان داده\u200cها)؛ پیش از آن «هنوز رتبه\u200cبندی نشده» نشان'
        ' داده می\u200cشود.',
    'Time to win incl. open deals (next to the median cycle of won deals): the Aalen-'
    'Johansen cumulative incidence of winning, with losing a competing outcome and deals '
    'still open censored at the period end, of the deals created in the last 12 months; '
    'horizon H = the 90th percentile cycle of deals won in the last 12 months. The figure'
    ' is the median days to win of the deals won within H (the first day by which half of'
    ' them were won), so it compares with the median cycle of won deals but counts the '
    'slow deals still open; time to any close (fast losses) is not shown beside it.':
        'زمان تا برد با معاملات باز (کنار میانه\u200cی چرخه\u200cی معاملات برده): احتمال تجمعی برد '
        'به روش آلن-یوهانسن، با باخت به\u200cعنوان پیامد رقیب و معاملات هنوز باز سانسورشده در '
        'پایان دوره، برای معاملات ایجادشده در ۱۲ ماه اخیر؛ افق H = صدک ۹۰ چرخه\u200cی معاملات '
        'برده\u200cی ۱۲ ماه اخیر. رقم نشان\u200cداده\u200cشده میانه\u200cی روز تا برد معاملاتی است که ظرف H '
        'برده شدند (نخستین روزی که نیمی از آن\u200cها برده شده بودند)، پس با میانه\u200cی چرخه\u200cی '
        'معاملات برده قابل مقایسه است اما معاملات کند هنوز باز را هم می\u200cشمارد؛ زمان تا هر'
        ' نوع بستن (باخت\u200cهای سریع) کنار آن نشان داده نمی\u200cشود.',
    'Ratings: good / watch / bad against params/baselines.yaml per business profile (team'
    ' name patterns in params/report.yaml); a scope that mixes profiles is judged against'
    " the profiles' thresholds weighted by their share of deals closed; a win rate whose "
    "95% interval is wider than max_interval_width is 'too few deals to judge'. Each "
    'rating sits on the tile of the figure it rates (win rate, lead conversion, median '
    'won cycle, open deals per rep rated by load, stale share). A figure the data cannot '
    'support is listed as not computable and never rated. A trailing baseline needs at '
    'least 10 deals in the trailing 12 months and a value above zero; otherwise the figure '
    'is not rated.':
        'رتبه\u200cبندی: خوب / مراقبت / ضعیف در برابر params/baselines.yaml برای هر الگوی '
        'کسب\u200cوکار (الگوهای نام تیم در params/report.yaml)؛ دامنه\u200cای که چند الگو را در بر '
        'دارد با آستانه\u200cهای الگوها، وزن\u200cدار به سهم هر الگو از معاملات بسته\u200cشده، سنجیده '
        'می\u200cشود؛ نرخ بردی که بازه\u200cی ۹۵٪ آن از max_interval_width پهن\u200cتر باشد «معاملات '
        'برای داوری کافی نیست» است. هر رتبه روی کاشیِ همان رقمی است که می\u200cسنجد (نرخ برد، '
        'تبدیل سرنخ، میانه\u200cی چرخه\u200cی برد، معاملات باز هر کارشناس با سنجش بار کاری، سهم '
        'راکد). رقمی که داده پشتیبانی\u200cاش نمی\u200cکند محاسبه\u200cپذیر نیست و هرگز رتبه\u200cبندی '
        'نمی\u200cشود. مبنای دوازده‌ماهه‌ی گذشته دست‌کم ۱۰ معامله و مقداری بزرگ‌تر از صفر '
        'می‌خواهد؛ وگرنه آن رقم رتبه‌بندی نمی‌شود.',
    # issue 15: forecast and targets, pipeline movement (quota = سهمیه, bookings = فروش
    # ثبت‌شده, attainment = تحقق, pace = آهنگ, coverage = پوشش, push = تعویق)
    "6. Forecast and targets": "۶. پیش‌بینی و اهداف",
    "7. Pipeline movement": "۷. تغییرات قیف",
    "attainment is what was booked against the quota; pace compares the bookings so far "
    "with what the quota expects by now; coverage is the open value due in the period "
    "over the quota still to go (about 3x is healthy). The forecast is the expected "
    "bookings of the next period with the range they land in 8 times out of 10; its "
    "method is the one that was most accurate on past months (see the appendix).":
        "تحقق یعنی فروش ثبت‌شده در برابر سهمیه؛ آهنگ، فروش ثبت‌شده تاکنون را با آنچه سهمیه "
        "تا امروز انتظار دارد مقایسه می‌کند؛ پوشش، ارزش معاملات بازی که سررسیدشان در این "
        "دوره است تقسیم بر باقی‌مانده‌ی سهمیه است (حدود ۳ برابر سالم است). پیش‌بینی، فروش "
        "مورد انتظار دوره‌ی بعد است همراه با بازه‌ای که از هر ۱۰ بار، ۸ بار در آن قرار "
        "می‌گیرد؛ روش آن همانی است که در ماه‌های گذشته دقیق‌ترین بوده است (پیوست را ببینید).",
    "the waterfall starts from the open value due this quarter at the start of the "
    "period, adds what was created or pulled in, takes away what was pushed out, won or "
    "lost, and ends at the value due at the period end; the bars add up exactly. A push "
    "is a close date moved later. Velocity is open deals x win rate x average won deal "
    "/ days to win: revenue per day, and the bars show which factor moved it.":
        "نمودار آبشاری از ارزش باز با سررسید این فصل در آغاز دوره شروع می‌شود، آنچه ایجاد "
        "شده یا جلو آمده را می‌افزاید، آنچه به بعد رفته، برده یا باخته شده را کم می‌کند و "
        "به ارزش با سررسید در پایان دوره می‌رسد؛ جمع میله‌ها دقیقاً برابر مقدار پایانی است. تعویق یعنی "
        "تاریخ بستن به زمانی دیرتر منتقل شود. سرعت فروش = معاملات باز × نرخ برد × میانگین "
        "معامله‌ی برده / روزهای تا برد: درآمد در روز؛ میله‌ها نشان می‌دهند کدام عامل آن را "
        "تغییر داد.",
    # forecast and targets: notes, captions, column labels
    "No quotas for this period: attainment, pacing and coverage need params/quotas.yaml "
    "or an ingested quotas table.":
        "برای این دوره سهمیه‌ای تعیین نشده است: تحقق، آهنگ و پوشش به params/quotas.yaml "
        "یا جدول سهمیه‌های واردشده نیاز دارند.",
    "Bookings against quota in {period} by rep, lowest attainment first":
        "فروش ثبت‌شده در برابر سهمیه در {period} به تفکیک کارشناس، کمترین تحقق در ابتدا",
    "shaped by when past quarters booked": "بر پایه‌ی الگوی زمانی فروش فصل‌های گذشته",
    "spread evenly over the quarter": "به‌طور یکنواخت در طول فصل",
    "{quarter} to date in {currency}, slowest first: booked against the quarter's quota "
    "and against what it expects by now ({shape}); coverage is the open value due this "
    "quarter over the quota still to go":
        "{quarter} تاکنون به {currency}، کندترین در ابتدا: فروش ثبت‌شده در برابر سهمیه‌ی "
        "فصل و در برابر آنچه تا امروز انتظار می‌رود ({shape})؛ پوشش، ارزش باز با سررسید "
        "این فصل تقسیم بر باقی‌مانده‌ی سهمیه است",
    "Booked ({currency})": "ثبت‌شده ({currency})", "Quota ({currency})": "سهمیه ({currency})",
    "Attainment": "تحقق", "Booked": "ثبت‌شده", "Quota": "سهمیه", "Expected": "مورد انتظار",
    "Pace": "آهنگ", "Due": "قیف با سررسید", "Coverage": "پوشش",
    "Quotas: {note}": "سهمیه‌ها: {note}",
    "No forecast: the store has too little closed history to learn from.":
        "پیش‌بینی در کار نیست: سابقه‌ی معاملات بسته‌شده در این انبار برای یادگیری کافی نیست.",
    "Expected bookings in {period}: {value} from about {count} deals, by {method}.":
        "فروش مورد انتظار در {period}: {value} از حدود {count} معامله، بر پایه‌ی {method}.",
    "the win chance of each open deal learned from past months":
        "احتمال برد هر معامله‌ی باز، آموخته‌شده از ماه‌های گذشته",
    "open deals x the past year's win rate": "معاملات باز × نرخ برد سال گذشته",
    "the CRM's stage probabilities": "احتمال‌های مرحله در CRM",
    "the deals the reps call commit": "معاملاتی که کارشناسان «قطعی» اعلام کرده‌اند",
    "In 8 months of 10 like this one, bookings land between {low} and {high}.":
        "در ۸ ماه از هر ۱۰ ماهِ مشابه، فروش ثبت‌شده میان {low} و {high} است.",
    "The simple rule (open deals x the past year's win rate) says {naive}.":
        "قاعده‌ی ساده (معاملات باز × نرخ برد سال گذشته) {naive} را نشان می‌دهد.",
    "That is {share} of the {quota} quota.": "این مقدار {share} از سهمیه‌ی {quota} است.",
    "{n} of the {open} open deals have no recorded history: for past months the forecast "
    "learned only from their creation and close dates.":
        "{n} از {open} معامله‌ی باز سابقه‌ی ثبت‌شده ندارند: پیش‌بینی برای ماه‌های گذشته فقط "
        "از تاریخ ایجاد و بستن آن‌ها آموخته است.",
    "Forecast ({currency})": "پیش‌بینی ({currency})",
    "Simple rule ({currency})": "قاعده‌ی ساده ({currency})",
    "CRM weighted ({currency})": "وزن‌دار CRM ({currency})",
    "Forecast of {period} by rep": "پیش‌بینی {period} به تفکیک کارشناس",
    "Deal": "معامله", "Owner": "مالک", "Stage": "مرحله", "Amount ({currency})": "مبلغ ({currency})",
    "Chance": "احتمال برد", "Expected ({currency})": "مورد انتظار ({currency})",
    "Age (days)": "عمر (روز)",
    "Open deals with the largest expected value": "معاملات باز با بیشترین ارزش مورد انتظار",
    "old": "کهنه", "slipping": "در حال تعویق", "inactive": "بی‌فعالیت", "At risk": "دلیل خطر",
    "Open deals most at risk (old, slipping or inactive), largest first":
        "معاملات باز با بیشترین خطر (کهنه، در حال تعویق یا بی‌فعالیت)، بزرگ‌ترین در ابتدا",
    # pipeline movement: notes, captions, column labels
    "Pipeline movement": "تغییرات قیف",
    "Open deals due to close by {due}: how the pipeline at the start of the period became "
    "the pipeline at its end.":
        "معاملات باز با سررسید بستن تا {due}: قیف آغاز دوره چگونه به قیف پایان دوره رسید.",
    "This store has no deal history: the movement shows what creation and close dates "
    "tell; pushes and amount changes are not known.":
        "این انبار سابقه‌ی معاملات را ندارد: تغییرات فقط همان است که تاریخ‌های ایجاد و بستن "
        "نشان می‌دهند؛ تعویق‌ها و تغییر مبلغ‌ها معلوم نیستند.",
    "Start": "آغاز", "Pulled in": "جلو آمده", "Pushed out": "به بعد رفته", "Other": "سایر",
    "End": "پایان",
    "Pipeline movement by rep in {currency} (other: amount changes, reopened deals, "
    "deletions and handovers)":
        "تغییرات قیف به تفکیک کارشناس به {currency} (سایر: تغییر مبلغ، معاملات بازگشوده، "
        "حذف‌ها و واگذاری‌ها)",
    "Deals": "معاملات", "Pushes": "تعویق‌ها", "Per deal": "برای هر معامله",
    "Pushed 2+ times": "۲ بار یا بیشتر به تعویق افتاده",
    "Pushed out ({currency})": "به بعد رفته ({currency})",
    "Close-date pushes by rep over the last 12 months, most per deal first":
        "تعویق تاریخ بستن به تفکیک کارشناس در ۱۲ ماه گذشته، بیشترین برای هر معامله در ابتدا",
    "Reason": "دلیل", "Lost deals": "معاملات باخته", "Value ({currency})": "ارزش ({currency})",
    "Share": "سهم",
    "Why deals were lost in the period ({share} without a reason)":
        "چرا معاملات در این دوره باخته شدند ({share} بدون دلیل ثبت‌شده)",
    # summary tiles
    "Bookings": "فروش ثبت‌شده", "{n} deals won": "{n} معامله‌ی برده",
    "; {share} of the {quota} quota": "؛ {share} از سهمیه‌ی {quota}",
    "; no quota set for the period": "؛ برای این دوره سهمیه‌ای تعیین نشده",
    "Forecast, {period}": "پیش‌بینی، {period}",
    "too little closed history to forecast": "سابقه‌ی معاملات بسته برای پیش‌بینی کافی نیست",
    "most open deals have no amount": "بیشتر معاملات باز مبلغ ندارند",
    "8 in 10: {low} to {high}": "۸ از ۱۰: {low} تا {high}",
    "{share} of the {quota} quota": "{share} از سهمیه‌ی {quota}",
    "simple rule {value}": "قاعده‌ی ساده {value}",
    # methodology appendix: backtest table and calibration
    "Forecast backtest: {n} past month-ends, each method forecasting the next {days} days "
    "from what was known then; mean absolute percentage error (lower is better). * the "
    "method the report uses.":
        "آزمون گذشته‌نگر پیش‌بینی: {n} پایان ماه گذشته، که در هر کدام هر روش {days} روز بعد "
        "را از روی آنچه آن زمان معلوم بود پیش‌بینی می‌کند؛ میانگین قدر مطلق درصد خطا (کمتر "
        "بهتر است). * روشی که گزارش به کار می‌برد.",
    "Calibration of the win chances on {n} deals: Brier score {brier} against {base} for "
    "the base rate and {crm} for the CRM's stage probabilities (lower is better).":
        "واسنجی احتمال‌های برد روی {n} معامله: امتیاز بریر {brier} در برابر {base} برای "
        "نرخ پایه و {crm} برای احتمال‌های مرحله در CRM (کمتر بهتر است).",
    "Method": "روش", "Error, deals won": "خطا، تعداد معاملات برده",
    "Error, value won": "خطا، ارزش برده", "In the 80% range": "درون بازه‌ی ۸۰٪",
    "Brier score": "امتیاز بریر", "Months tested": "ماه‌های آزموده",
    # charts: movement waterfall, slippage, velocity effects, forecast by rep
    "pipeline value ({currency})": "ارزش قیف ({currency})",
    "deals (amounts unknown)": "معاملات (مبلغ‌ها نامعلوم)",
    "total": "جمع", "increase": "افزایش", "decrease": "کاهش",
    "median rep {value}": "کارشناس میانه {value}",
    "close-date pushes per open deal in the period":
        "تعویق تاریخ بستن برای هر معامله‌ی باز در دوره",
    "Close-date slippage by rep": "تعویق تاریخ بستن به تفکیک کارشناس",
    "sales velocity ({currency} a day)": "سرعت فروش ({currency} در روز)",
    "sales velocity (revenue a day)": "سرعت فروش (درآمد در روز)",
    "What moved sales velocity": "چه چیزی سرعت فروش را تغییر داد",
    "open deals": "معاملات باز", "average won deal": "میانگین معامله‌ی برده",
    "cycle days": "روزهای چرخه", "change": "تغییر",
    "effect on sales velocity ({currency} a day), previous period to this one":
        "اثر بر سرعت فروش ({currency} در روز)، از دوره‌ی قبل تا این دوره",
    "effect on sales velocity (revenue a day), previous period to this one":
        "اثر بر سرعت فروش (درآمد در روز)، از دوره‌ی قبل تا این دوره",
    "expected": "مورد انتظار", "80% range": "بازه‌ی ۸۰٪", "open x win rate": "باز × نرخ برد",
    "quota": "سهمیه", "expected bookings ({currency})": "فروش مورد انتظار ({currency})",
    "Forecast of bookings by rep": "پیش‌بینی فروش به تفکیک کارشناس",
    "no amounts to forecast": "مبلغی برای پیش‌بینی نیست",
    # the waterfalls' bar labels (x ticks: not yet passed through localize_axes)
    "start": "آغاز", "created": "ایجادشده", "pulled in": "جلو آمده", "reopened": "بازگشوده",
    "restored": "بازگردانده", "handed over in": "تحویل‌گرفته", "amount set": "مبلغ تعیین شد",
    "amount up": "افزایش مبلغ", "amount down": "کاهش مبلغ", "amount cleared": "مبلغ پاک شد",
    "pushed out": "به بعد رفته", "won": "برده", "lost": "باخته", "deleted": "حذف‌شده",
    "handed over out": "واگذارشده", "end": "پایان", "previous": "دوره‌ی قبل", "now": "اکنون",
    # findings: targets (every head + tail the code builds) and movement
    "{rep} booked {won:,.0f} of a {quota:,.0f} quota for {period} ({attainment:.0%}), "
    "{remaining:,.0f} short.":
        "{rep} برای {period} از سهمیه‌ی {quota:,.0f}، {won:,.0f} فروش ثبت کرد "
        "({attainment:.0%})؛ {remaining:,.0f} کمتر از سهمیه.",
    "{rep} has booked {won:,.0f} of a {quota:,.0f} quota for {period} ({attainment:.0%}), "
    "{pace:.0%} of the {method} pace expected by now; no open pipeline is due in the "
    "period to make up the {remaining:,.0f}.":
        "{rep} برای {period} تاکنون از سهمیه‌ی {quota:,.0f}، {won:,.0f} فروش ثبت کرده است "
        "({attainment:.0%})، یعنی {pace:.0%} از آهنگ {method} مورد انتظار تا امروز؛ هیچ "
        "قیف بازی با سررسید در این دوره نیست که {remaining:,.0f} باقی‌مانده را جبران کند.",
    "{rep} has booked {won:,.0f} of a {quota:,.0f} quota for {period} ({attainment:.0%}), "
    "{pace:.0%} of the {method} pace expected by now; the open pipeline due in the period "
    "({pipeline:,.0f}) covers {coverage:.1f}x of the {remaining:,.0f} still to go.":
        "{rep} برای {period} تاکنون از سهمیه‌ی {quota:,.0f}، {won:,.0f} فروش ثبت کرده است "
        "({attainment:.0%})، یعنی {pace:.0%} از آهنگ {method} مورد انتظار تا امروز؛ قیف باز "
        "با سررسید در این دوره ({pipeline:,.0f}) {coverage:.1f} برابر {remaining:,.0f} "
        "باقی‌مانده را پوشش می‌دهد.",
    "{rep}'s deals slip: {slips:.0f} of {pushes:.0f} close-date pushes on {deals:.0f} open "
    "deals moved a deal past a quarter end ({per_deal:.2f} a deal, {ratio:.1f}x the median "
    "rep's {median:.2f}); {twice:.0%} of the deals were pushed twice or more and "
    "{value:,.0f} was pushed out of the period.":
        "معاملات {rep} عقب می‌افتند: {slips:.0f} مورد از {pushes:.0f} تعویق تاریخ بستن روی "
        "{deals:.0f} معامله‌ی باز، معامله را به فصل بعد منتقل کرد ({per_deal:.2f} برای هر "
        "معامله، {ratio:.1f} برابر کارشناس میانه با {median:.2f})؛ {twice:.0%} از معاملات "
        "دو بار یا بیشتر به تعویق افتادند و {value:,.0f} به پس از دوره منتقل شد.",
    "Sales velocity {direction} from {prev:,.0f} to {cur:,.0f} a day; {factor} moved it "
    "most ({effect:+,.0f} a day, {share:.0%} of the factors' combined effect).":
        "سرعت فروش از {prev:,.0f} به {cur:,.0f} در روز {direction}؛ بیشترین اثر را "
        "{factor} داشت ({effect:+,.0f} در روز، {share:.0%} از اثر مجموع عوامل).",
    "In {group}, sales velocity {direction} from {prev:,.0f} to {cur:,.0f} a day; {factor} "
    "moved it most ({effect:+,.0f} a day, {share:.0%} of the factors' combined effect).":
        "در {group}، سرعت فروش از {prev:,.0f} به {cur:,.0f} در روز {direction}؛ بیشترین "
        "اثر را {factor} داشت ({effect:+,.0f} در روز، {share:.0%} از اثر مجموع عوامل).",
    # methodology (DEFINITIONS of forecast, targets, movement, velocity, reasons)
    "Forecast of bookings: the deals open at the as-of time (the state just before it) "
    "won within the horizon [as-of, as-of + horizon days), counted and valued at their "
    "amount known then (unknown amounts: the product's trailing 12-month mean won "
    "amount). The model's expected count is the sum of each deal's win probability, "
    "with an 80% interval from the exact distribution of a sum of independent wins "
    "(Poisson-binomial; value by simulation); new deals expected to be created and won "
    "within the horizon are added from the recent creation rate and how soon past deals "
    "were won. For comparison: the CRM's weighted pipeline (amount x probability of deals "
    "expected to close within the horizon), the commit category, and the naive forecast "
    "(open deals x trailing 12-month win rate).":
        "پیش‌بینی فروش: معاملاتی که در لحظه‌ی مبنا (as-of؛ وضعیتِ درست پیش از آن) باز بودند "
        "و در افق [as-of، as-of + روزهای افق) برده می‌شوند، شمرده و با مبلغی که آن زمان "
        "معلوم بود ارزش‌گذاری می‌شوند (مبلغ نامعلوم: میانگین مبلغ برده‌ی همان محصول در ۱۲ "
        "ماه گذشته). تعداد مورد انتظار مدل، جمع احتمال برد تک‌تک معاملات است، با بازه‌ی ۸۰٪ "
        "از توزیع دقیق جمع بردهای مستقل (پواسون-دوجمله‌ای؛ ارزش با شبیه‌سازی)؛ معاملات "
        "تازه‌ای که انتظار می‌رود در افق ایجاد و برده شوند، از نرخ ایجاد اخیر و فاصله‌ی "
        "زمانی برد معاملات گذشته افزوده می‌شوند. برای مقایسه: قیف وزن‌دار CRM (مبلغ × "
        "احتمالِ معاملاتی که انتظار می‌رود در افق بسته شوند)، رده‌ی «قطعی» (commit) و "
        "پیش‌بینی ساده (معاملات باز × نرخ برد ۱۲ ماه گذشته).",
    "Win probability: a gradient-boosted classifier (scikit-learn), calibrated by "
    "isotonic regression on its latest training origins, trained on the deals open at "
    "past month-ends whose horizon had ended, with only what was known at each: stage, "
    "age, days in stage, amount, days to the expected close date, close-date pushes, "
    "source, product, the CRM's probability and the owner's trailing win rate. Fields "
    "the deal history does not cover at a past date are unknown then, never taken from "
    "the current record. Calibration: Brier score against the base rate's and the "
    "CRM probability's, and a reliability table.":
        "احتمال برد: یک طبقه‌بند تقویت گرادیانی (scikit-learn)، واسنجی‌شده با رگرسیون "
        "هم‌نوا (isotonic) روی تازه‌ترین مبداهای آموزشی‌اش، آموزش‌دیده روی معاملاتی که در "
        "پایان ماه‌های گذشته باز بودند و افقشان سپری شده بود، فقط با آنچه در هر یک از آن "
        "زمان‌ها معلوم بود: مرحله، عمر، روزهای ماندن در مرحله، مبلغ، روزهای مانده تا تاریخ "
        "بستن مورد انتظار، تعویق‌های تاریخ بستن، منبع، محصول، احتمال CRM و نرخ برد اخیر "
        "مالک معامله. فیلدهایی که سابقه‌ی معامله در یک تاریخ گذشته پوشش نمی‌دهد، در آن "
        "زمان نامعلوم‌اند و هرگز از رکورد فعلی برداشته نمی‌شوند. واسنجی: امتیاز بریر در "
        "برابر امتیاز نرخ پایه و احتمال CRM، و جدول اعتمادپذیری.",
    "Forecast backtest: at each of the last 12 month-ends with a full horizon of "
    "outcomes, every method forecasts from what was known then (the model trained only "
    "on earlier month-ends whose horizon had ended) and is compared with the bookings "
    "that followed: MAPE of count and value (mean of |forecast - actual| / actual over "
    "the month-ends), share of month-ends inside the 80% interval, Brier score. The "
    "report uses the method with the lowest value error.":
        "آزمون گذشته‌نگر پیش‌بینی: در هر یک از ۱۲ پایان ماه اخیر که نتیجه‌های کل افقشان "
        "معلوم است، هر روش از روی آنچه آن زمان معلوم بود پیش‌بینی می‌کند (مدل فقط روی پایان "
        "ماه‌های پیشینی آموزش می‌بیند که افقشان سپری شده بود) و با فروشی که پس از آن ثبت شد "
        "مقایسه می‌شود: MAPE تعداد و ارزش (میانگین |پیش‌بینی - واقعی| / واقعی روی پایان "
        "ماه‌ها)، سهم پایان ماه‌هایی که درون بازه‌ی ۸۰٪ افتادند، و امتیاز بریر. گزارش روشی "
        "را به کار می‌برد که کمترین خطای ارزش را دارد.",
    "Quota attainment: won value in the period (deals won with closed_at in the period, "
    "up to the as-of time) / the quota of the rep, team or region for that period. A "
    "team or region without a quota of its own uses the sum of its members' quotas when "
    "every member has one (quota_source says which); a quarter without a quota uses "
    "the sum of its three monthly quotas when all exist; a quarterly quota is never "
    "split into months unless asked (even split or seasonal shape). Missing quota: not "
    "computable, never 0. quotas.yaml wins over an ingested quota for the same scope "
    "and period; quotas in another currency are converted to the reporting currency.":
        "تحقق سهمیه: ارزش برده‌ی دوره (معاملات برده با closed_at در دوره، تا لحظه‌ی مبنا) / "
        "سهمیه‌ی کارشناس، تیم یا منطقه برای همان دوره. تیم یا منطقه‌ای که سهمیه‌ی خود را "
        "ندارد، اگر همه‌ی اعضایش سهمیه داشته باشند، جمع سهمیه‌های اعضا را به کار می‌برد "
        "(quota_source می‌گوید کدام)؛ فصلی که سهمیه ندارد، اگر هر سه سهمیه‌ی ماهانه‌اش موجود "
        "باشد، جمع آن‌ها را به کار می‌برد؛ سهمیه‌ی فصلی هرگز به ماه‌ها شکسته نمی‌شود مگر "
        "آن‌که خواسته شود (تقسیم یکنواخت یا الگوی فصلی). سهمیه‌ی ناموجود: محاسبه‌پذیر نیست، "
        "هرگز صفر. برای دامنه و دوره‌ی یکسان، quotas.yaml بر سهمیه‌ی واردشده مقدم است؛ "
        "سهمیه‌های ارز دیگر به ارز گزارش تبدیل می‌شوند.",
    "Pacing: the share of the quota expected to be booked by the as-of time: linear "
    "(the share of the period's days elapsed) or seasonal (of the won value of up to "
    "12 past months, or 8 past quarters, the share booked by the same day of the "
    "period, pooled; used when at least 3 past periods had bookings, else linear). "
    "Pace = won value / expected to date (1.0 = on pace).":
        "آهنگ‌سنجی: سهمی از سهمیه که انتظار می‌رود تا لحظه‌ی مبنا ثبت شده باشد: خطی (سهم "
        "روزهای سپری‌شده‌ی دوره) یا فصلی (از ارزش برده‌ی حداکثر ۱۲ ماه یا ۸ فصل گذشته، سهمی "
        "که تا همان روزِ دوره ثبت شده بود، تجمیع‌شده؛ وقتی به کار می‌رود که دست‌کم ۳ دوره‌ی "
        "گذشته فروش ثبت‌شده داشته باشند، وگرنه خطی). آهنگ = ارزش برده / مورد انتظار تا "
        "امروز (۱٫۰ = مطابق برنامه).",
    "Coverage: open pipeline expected to close in the period (deals open at the as-of "
    "time with an expected close date before the period end; where deals carry no "
    "expected close date, the forecast's expected value) / remaining quota (quota - "
    "won value). When the quota is already met coverage is not meaningful and is not "
    "shown.":
        "پوشش: قیف بازی که انتظار می‌رود در دوره بسته شود (معاملات باز در لحظه‌ی مبنا با "
        "تاریخ بستن مورد انتظار پیش از پایان دوره؛ اگر معاملات تاریخ بستن مورد انتظار "
        "نداشته باشند، ارزش مورد انتظار پیش‌بینی) / باقی‌مانده‌ی سهمیه (سهمیه - ارزش برده). "
        "وقتی سهمیه پیش‌تر محقق شده باشد، پوشش معنایی ندارد و نشان داده نمی‌شود.",
    "Pipeline movement: the open pipeline (deals open just before the instant whose expected "
    "close date then is before the forecast horizon; no known date counts as in) at the start "
    "and end of the window, and every change between, from each deal's versions: created, "
    "pulled in (close date moved into the horizon), amount increases and decreases, pushed "
    "out (close date moved past the horizon), won, lost, and, where they occur, reopened, "
    "restored or deleted deals, an amount becoming known or unknown, and, per rep, deals "
    "handed over between reps. A deal leaves at the amount it had in the pipeline. start + "
    "the movements = end, to the cent. Without deal history only creation and close dates "
    "are known: deals enter when created and leave when closed, with unknown amounts for "
    "deals closed since.":
        "تغییرات قیف: قیف باز (معاملاتی که درست پیش از آن لحظه باز بودند و تاریخ بستن مورد "
        "انتظارشان در آن زمان پیش از پایان افق پیش‌بینی بود؛ معامله‌ی بی‌تاریخِ معلوم درون "
        "افق شمرده می‌شود) در آغاز و پایان بازه، و هر تغییر میان آن دو، از روی نسخه‌های هر "
        "معامله: ایجادشده، جلو آمده (تاریخ بستن به درون افق آمده)، افزایش و کاهش مبلغ، به "
        "بعد رفته (تاریخ بستن به پس از افق رفته)، برده، باخته و، هر جا رخ دهد، معاملات "
        "بازگشوده، بازگردانده یا حذف‌شده، مبلغی که معلوم یا نامعلوم شده، و برای هر کارشناس، "
        "معاملاتی که میان کارشناسان واگذار شده‌اند. هر معامله با همان مبلغی که در قیف داشت "
        "خارج می‌شود. آغاز + تغییرات = پایان، تا آخرین سنت. بدون سابقه‌ی معامله فقط "
        "تاریخ‌های ایجاد و بستن معلوم‌اند: معاملات هنگام ایجاد وارد و هنگام بستن خارج "
        "می‌شوند و مبلغ معاملاتی که از آن پس بسته شده‌اند نامعلوم است.",
    "Close-date slippage: a push is an open deal's expected close date moved later from one "
    "version to the next. Per rep: pushes in the period per deal open in it, the share of "
    "those deals pushed two or more times since creation, and the value pushed out of the "
    "period (close date moved from before the period end to after it, at the amount before "
    "the push). Needs deal history: without it, not computable.":
        "تعویق تاریخ بستن: تعویق یعنی تاریخ بستن مورد انتظارِ یک معامله‌ی باز از یک نسخه به "
        "نسخه‌ی بعد دیرتر شود. برای هر کارشناس: تعویق‌های دوره برای هر معامله‌ای که در دوره "
        "باز بوده، سهم آن معاملات که از زمان ایجاد دو بار یا بیشتر به تعویق افتاده‌اند، و "
        "ارزشی که به پس از دوره منتقل شده (تاریخ بستن از پیش از پایان دوره به پس از آن رفته، با "
        "مبلغ پیش از تعویق). به سابقه‌ی معامله نیاز دارد: بدون آن محاسبه‌پذیر نیست.",
    "Sales velocity (revenue per day): open deals at the period start x win rate (won / "
    "closed in the period) x average won deal (mean amount won in the period) / cycle days "
    "(mean days from creation to win of the deals won in the period). Its change from the "
    "previous period is split into the four factors with the logarithmic mean Divisia "
    "index: each factor's effect = L(V1, V0) x ln(factor now / factor before), with "
    "L(a, b) = (a - b) / (ln a - ln b), the cycle's with a minus sign; the four effects add "
    "up exactly to the change. Where a factor is 0 or not computable in either period "
    "the change is shown without a split.":
        "سرعت فروش (درآمد در روز): معاملات باز در آغاز دوره × نرخ برد (برده / بسته‌شده در "
        "دوره) × میانگین معامله‌ی برده (میانگین مبلغ برده در دوره) / روزهای چرخه (میانگین "
        "روزها از ایجاد تا برد برای معاملات برده‌ی دوره). تغییر آن نسبت به دوره‌ی قبل با "
        "شاخص دیویژیای میانگین لگاریتمی (LMDI) میان چهار عامل تقسیم می‌شود: اثر هر عامل = "
        "L(V1, V0) × ln(عامل اکنون / عامل پیشین)، با L(a, b) = (a - b) / (ln a - ln b)، "
        "و اثر چرخه با علامت منفی؛ جمع چهار اثر دقیقاً برابر تغییر است. اگر عاملی در یکی از "
        "دو دوره صفر یا محاسبه‌ناپذیر باشد، تغییر بدون تفکیک نشان داده می‌شود.",
    "Loss reasons: among deals lost in the period, the most frequent reasons recorded in "
    "the CRM, with their count, value (sum of the known amounts) and share of the lost "
    "deals, per team and rep, and the share of lost deals with no reason recorded.":
        "دلایل باخت: در میان معاملات باخته‌ی دوره، پرتکرارترین دلایل ثبت‌شده در CRM، با "
        "تعداد، ارزش (جمع مبلغ‌های معلوم) و سهم هر یک از معاملات باخته، برای هر تیم و "
        "کارشناس، و سهم معاملات باخته‌ای که دلیلی برایشان ثبت نشده است.",
    # deals behind the findings (presentation/deals.py) and report.xlsx's sheets
    "Account": "حساب", "Amount": "مبلغ", "Last activity": "آخرین فعالیت",
    "Stale open deals at the period end": "معاملات باز راکد در پایان دوره",
    "Open deals at the period end": "معاملات باز در پایان دوره",
    "Won deals with a longer cycle than the team median":
        "معاملات برده با چرخه‌ای طولانی‌تر از میانه‌ی تیم",
    "Won deals smaller than the team median": "معاملات برده‌ی کوچک‌تر از میانه‌ی تیم",
    "Won deals with the customers who stopped buying":
        "معاملات برده با مشتریانی که دیگر خرید نکردند",
    "Won expansion deals with the accounts they manage":
        "معاملات توسعه‌ی برده با حساب‌هایی که مدیریت می‌کند",
    "Deals lost only after they had gone stale": "معاملاتی که تنها پس از راکد شدن باخته شدند",
    "Deals lost at this stage": "معاملات باخته در این مرحله",
    "Open deals due by the end of the quota period":
        "معاملات باز با سررسید تا پایان دوره‌ی سهمیه",
    "Deals won in the quota period": "معاملات برده در دوره‌ی سهمیه",
    "Deals pushed past a quarter end": "معاملاتی که از پایان یک فصل جلوتر برده شدند",
    "Deals whose close date was pushed": "معاملاتی که تاریخ بستنشان عقب افتاد",
    "Open deals at the start of the period": "معاملات باز در آغاز دوره",
    "Deals won in the period": "معاملات برده در دوره",
    "Deals lost in the period": "معاملات باخته در دوره",
    "{rep}: win rate {rate} ({won} won, {lost} lost)":
        "{rep}: نرخ برد {rate} ({won} برده، {lost} باخته)",
    "The deals each finding and each flagged figure is about, as they were at the period "
    "end, largest amount first. Every list is complete in report.xlsx.":
        "معاملاتی که هر یافته و هر رقم علامت‌خورده درباره‌ی آن‌هاست، همان‌گونه که در پایان "
        "دوره بودند، از بزرگ‌ترین مبلغ. هر فهرست به‌طور کامل در report.xlsx آمده است.",
    "and {n} more; all in report.xlsx": "و {n} مورد دیگر؛ همه در report.xlsx",
    "No finding or flagged figure points at particular deals this period.":
        "در این دوره هیچ یافته یا رقم علامت‌خورده‌ای به معاملات مشخصی اشاره نمی‌کند.",
    "Deals behind the rows rated bad or watch:": "معاملات پشت ردیف‌های ضعیف یا نیازمند مراقبت:",
    "Cycle by rep": "چرخه به تفکیک کارشناس", "Deal size by rep": "اندازه‌ی معامله، کارشناس",
    "Pipeline by rep": "قیف باز به تفکیک کارشناس", "Value by acquirer": "ارزش، جذب‌کننده",
    "Value by manager": "ارزش، مدیر حساب", "Quota attainment": "تحقق سهمیه",
    "Quarter pace": "آهنگ فصل", "Forecast by rep": "پیش‌بینی به تفکیک کارشناس",
    "Largest expected deals": "بزرگ‌ترین معاملات مورد انتظار", "Deals at risk": "معاملات در خطر",
    "Movement by rep": "جابه‌جایی قیف، کارشناس", "Close-date pushes": "عقب افتادن تاریخ بستن",
    "Loss reasons": "دلایل باخت", "Forecast backtest": "آزمون گذشته‌نگر پیش‌بینی",
    "Contents": "فهرست", "Sheet": "برگه", "What it holds": "محتوا",
    "pipeline": "قیف باز", "cycle": "چرخه", "small deals": "معاملات کوچک", "churn": "ریزش",
    "expansion": "توسعه", "lost stale": "باخته پس از رکود", "funnel": "قیف",
    "slips": "عقب‌افتادن", "velocity": "سرعت",
    "load": "بار کاری",
    "Open deals due by the end of the period": "معاملات باز با سررسید تا پایان دوره",
    "Won deals with a longer cycle than the median": "معاملات برده با چرخه‌ای طولانی‌تر از میانه",
}

# the report kinds (reporting.kinds): rep scorecards, company roll-up, trend
FA.update({
    "Company roll-up": "گزارش تجمیعی شرکت",
    "Sales trend": "روند فروش",
    "Company total": "جمع شرکت",
    "Region": "منطقه",
    "Bookings (won value)": "فروش ثبت‌شده (ارزش برده)",
    "Forecast for {period}": "پیش‌بینی {period}",
    "no quota": "بدون سهمیه",
    "quota met": "سهمیه محقق شد",
    "80% range {low} – {high}": "بازه‌ی ۸۰٪: {low} تا {high}",
    "{won} of {closed} closed": "{won} از {closed} بسته‌شده",
    "{n} open deals": "{n} معامله‌ی باز",
    "Median cycle (days)": "میانه‌ی چرخه (روز)",
    "Open pipeline": "قیف باز",
    "Bookings and targets": "فروش ثبت‌شده و اهداف",
    "Conversion and pipeline": "تبدیل و قیف فروش",
    "Bookings by region": "فروش ثبت‌شده به تفکیک منطقه",
    "The company total is computed over all deals: its win rate is all deals won over all "
    "deals closed, not an average of the regions' rates.":
        "جمع شرکت روی همه‌ی معاملات محاسبه می‌شود: نرخ برد آن همه‌ی معاملات برده بر همه‌ی "
        "معاملات بسته‌شده است، نه میانگین نرخ‌های مناطق.",
    "Open pipeline: the deals open at the period end, as known then. Coverage: the open "
    "value due in the period over the quota still to go.":
        "قیف باز: معاملات باز در پایان دوره، آن‌گونه که آن زمان معلوم بود. پوشش: ارزش باز با "
        "سررسید در دوره بر سهمیه‌ی باقی‌مانده.",
    "No quotas for this period: attainment and coverage need params/quotas.yaml or an "
    "ingested quotas table.":
        "برای این دوره سهمیه‌ای نیست: تحقق و پوشش به params/quotas.yaml یا جدول سهمیه‌ی "
        "واردشده نیاز دارند.",
    "No forecast: the store has too little history to forecast the next period.":
        "پیش‌بینی نیست: سابقه‌ی داده‌ها برای پیش‌بینی دوره‌ی بعد کافی نیست.",
    "'too few deals to judge': the win rate rests on so few closed deals that its likely "
    "range is too wide to rate.":
        "«معاملات برای داوری کافی نیست»: نرخ برد بر معاملات بسته‌شده‌ی آن‌قدر کمی استوار است "
        "که بازه‌ی محتمل آن برای رتبه‌بندی بیش از حد پهن است.",
    "The company booked {value} from {n} deals in {period}; win rate {rate}.":
        "شرکت در {period} از {n} معامله {value} فروش ثبت کرد؛ نرخ برد {rate}.",
    "That is {share} of the company's quota.": "این {share} از سهمیه‌ی شرکت است.",
    "Month": "ماه",
    "Cycle (days)": "چرخه (روز)",
    "Avg won deal": "میانگین معامله‌ی برده",
    "Open deals": "معاملات باز",
    "Open pipeline at month end": "قیف باز در پایان ماه",
    "Month by month (open deals and pipeline at each month's end)":
        "ماه به ماه (معاملات و قیف باز در پایان هر ماه)",
    "Over {n} months {scope} booked {value} from {deals} deals; the best month was "
    "{best} ({best_value}), the weakest {worst} ({worst_value}).":
        "{scope} در {n} ماه {value} از {deals} معامله ثبت کرد؛ بهترین ماه {best} "
        "({best_value}) و ضعیف‌ترین {worst} ({worst_value}) بود.",
    "How to read: each point is one month. Bookings, win rate, cycle and deal size count "
    "the deals closed in the month as the CRM records them today; the open pipeline is "
    "what was open at the month's end, as it was known then.":
        "چگونه بخوانیم: هر نقطه یک ماه است. فروش ثبت‌شده، نرخ برد، چرخه و اندازه‌ی معامله "
        "معاملات بسته‌شده در آن ماه را آن‌گونه که CRM امروز ثبت کرده می‌شمارند؛ قیف باز آن "
        "چیزی است که در پایان ماه باز بود، آن‌گونه که آن زمان معلوم بود.",
    "over capacity": "بیش از ظرفیت",
    "{open} open deals for a capacity of {capacity}.":
        "{open} معامله‌ی باز برای ظرفیت {capacity}.",
    "{n} more findings in the monthly report.": "{n} یافته‌ی دیگر در گزارش ماهانه.",
    # --- session 7 persian: begin
    # the CRM's standard stages and loss reasons, the shipped business profiles
    # (reporting.crm_terms: a stage or reason a company named itself stays as it is)
    "Prospecting": "یافتن مشتری", "Qualification": "ارزیابی صلاحیت",
    "Discovery": "نیازسنجی", "Proposal": "پیشنهاد", "Negotiation": "مذاکره",
    "Closed Won": "بسته‌شده (برده)", "Closed Lost": "بسته‌شده (باخته)",
    "Not a fit": "نامتناسب", "Chose a competitor": "انتخاب رقیب",
    "No decision": "بی‌تصمیمی", "Went dark": "قطع ارتباط", "Price": "قیمت",
    "No budget": "نبود بودجه", "Timing": "زمان‌بندی", "Missing feature": "نبود قابلیت",
    "profile:default": "پیش‌فرض", "profile:enterprise": "سازمانی",
    "profile:velocity": "پرسرعت",
    # the store's tables in the data-quality appendix (presentation.sections.STORE_TABLES)
    "deal history": "سابقه‌ی معاملات", "deal snapshots": "تصویرهای معاملات",
    "deal changes": "تغییرات معاملات", "deleted deals": "معاملات حذف‌شده",
    "stages": "مرحله‌ها", "stage history": "سابقه‌ی مرحله‌ها", "leads": "سرنخ‌ها",
    "accounts": "حساب‌ها", "reps": "کارشناسان", "quotas": "سهمیه‌ها", "revenue": "درآمد",
    # a chart's alternative text; when the report was made (formatting.generated_words)
    "chart": "نمودار",
    ">{value}": "بیش از {value}",  # an age bucket of the open-deals heatmap ('>365')
    "{date}, {time} UTC": "{date}، ساعت {time} به وقت جهانی",
    # why a profile has no deal-size bands (metrics.suite._bands, learn_band_edges)
    "no band edges in the reference for this profile (too few won deals in its window): "
    "its deals are not banded":
        "مرزهای دسته برای این الگو در مبنا نیست (معاملات برده‌ی بازه‌اش کم بود): معاملاتش "
        "دسته‌بندی نمی‌شوند",
    "only {value} won deals in the reference window": "فقط {value} معامله‌ی برده در بازه‌ی مبنا",
    # overrides of earlier entries (the same English key, a new Persian): the methodology
    # names its models and statistics in Persian, not by their Latin abbreviations
    "Deal-size bands (KMeans on log amounts), learned for this store on the deals won"
    " from {start} to {end}: {parts}.":
        "دسته‌های اندازه‌ی معامله (خوشه‌بندی کا-میانگین روی لگاریتم مبالغ)، "
        "آموخته‌شده برای همین پایگاه داده روی معاملات برده از {start} تا {end}: "
        "{parts}.",
    "BG/NBD (purchases) with average spend":
        "بتا-هندسی/دوجمله‌ای منفی (خریدها) با میانگین هزینه",
    "BG/NBD with Gamma-Gamma spend":
        "بتا-هندسی/دوجمله‌ای منفی با هزینه‌ی گاما-گاما",
    "RFM-segment":
        "بخش‌بندی تازگی-دفعات-مبلغ",
    "Customer lifetime value (predicted): revenue each account is expected to bring "
    "over the horizon in params/report.yaml (clv.horizon_months), discounted month by"
    " month at the annual rate clv.discount_rate (month k counts 1 / (1 + rate)^(k / "
    "12)), from the model that backtests best on this company's revenue (BG/NBD with "
    "average spend, BG/NBD with Gamma-Gamma spend, RFM segments, a gradient-boosted "
    "regressor or shifted-beta-geometric retention), scored by |aggregate error| + (1"
    " - Spearman) on the last 6 months held out (undiscounted, as booked); averaged "
    "per acquiring rep and account manager. Gamma-Gamma spend uses each repeat "
    "customer's mean over positive repeat purchases; zero-value lines are counted and"
    " left out.":
        "ارزش طول عمر مشتری (پیش‌بینی‌شده): درآمدی که انتظار می‌رود هر حساب در افق "
        "تعیین‌شده در params/report.yaml (clv.horizon_months) بیاورد، ماه به ماه با "
        "نرخ سالانه‌ی clv.discount_rate تنزیل‌شده (ماه k با ضریب 1 / (1 + rate)^(k / "
        "12))، از مدلی که در آزمون گذشته‌نگر روی درآمد همین شرکت بهترین است "
        "(بتا-هندسی/دوجمله‌ای منفی با میانگین هزینه، بتا-هندسی/دوجمله‌ای منفی با "
        "هزینه‌ی گاما-گاما، بخش‌بندی تازگی-دفعات-مبلغ، رگرسیون تقویت گرادیانی یا "
        "ماندگاری بتا-هندسی انتقال‌یافته)، با امتیاز |خطای کل| + (1 - اسپیرمن) روی ۶ "
        "ماه آخرِ کنارگذاشته (تنزیل‌نشده، همان‌گونه که ثبت شده)؛ برای هر جذب‌کننده و "
        "مدیر حساب میانگین گرفته می‌شود. هزینه‌ی گاما-گاما میانگین خریدهای تکراری "
        "مثبت هر مشتری تکراری است؛ ردیف‌های با مبلغ صفر شمرده و کنار گذاشته می‌شوند.",
    "Band drift: population stability index PSI = sum over bands of (c - r) ln(c / r)"
    " between the period's won deals (c, shares floored at 0.0001) and a baseline "
    "that does not contain the period (r): the reference window when it ended by the "
    "period start, otherwise the 12 months before the period start under the same "
    "edges. Below 30 won deals in the period or in the baseline it says 'too few "
    "deals'. Under 0.1 stable, 0.1-0.25 some drift, above 0.25 refresh the reference.":
        "جابه‌جایی دسته‌ها: شاخص پایداری جمعیت = مجموع (c - r) ln(c / r) روی دسته‌ها،"
        " میان معاملات برده‌ی دوره (c، سهم‌ها با کف ۰٫۰۰۰۱) و مبنایی که این دوره را "
        "در بر ندارد (r): بازه‌ی خود مبنا اگر تا آغاز دوره تمام شده باشد، وگرنه ۱۲ "
        "ماه پیش از آغاز دوره با همان مرزها. با کمتر از ۳۰ معامله‌ی برده در دوره یا "
        "در مبنا، «معاملات کافی نیست» گفته می‌شود. زیر ۰٫۱ پایدار، ۰٫۱ تا ۰٫۲۵ اندکی "
        "جابه‌جایی، بالای ۰٫۲۵ مبنا را تازه کنید.",
    "Deal-size bands: KMeans (3 clusters) on log amounts of the last 12 months of won"
    " deals, learned in this run.":
        "دسته‌های اندازه‌ی معامله: خوشه‌بندی کا-میانگین (سه خوشه) روی لگاریتم مبالغ "
        "معاملات برده‌ی ۱۲ ماه گذشته، آموخته‌شده در همین اجرا.",
    "Deal-size bands of this report: KMeans on log amounts, learned for this store on"
    " the deals won from {start} to {end}. Drift of the whole company's won deals in "
    "this period against a window without it: {drift}. Refresh with --refresh-bands.":
        "دسته‌های اندازه‌ی معامله‌ی این گزارش: خوشه‌بندی کا-میانگین روی لگاریتم "
        "مبالغ، آموخته‌شده برای همین پایگاه داده روی معاملات برده از {start} تا "
        "{end}. جابه‌جایی معاملات برده‌ی کل شرکت در این دوره در برابر بازه‌ای که این "
        "دوره را در بر ندارد: {drift}. با \u200e--refresh-bands\u200e تازه کنید.",
    "Deal-size bands (learned on the last 12 months of won deals, KMeans on log "
    "amounts): {parts}.":
        "دسته‌های اندازه‌ی معامله (آموخته‌شده از معاملات برده‌ی ۱۲ ماه گذشته، "
        "خوشه‌بندی کا-میانگین روی لگاریتم مبلغ): {parts}.",
    "{profile} PSI {psi} ({verdict})":
        "{profile}: شاخص پایداری {psi} ({verdict})",
    "Deal-size bands: small / medium / large learned per business profile by KMeans "
    "(k=3) on log10 amounts of deals won in the 12 months before the period end; "
    "edges are the geometric midpoints between cluster centres. Band mix: each rep's "
    "share of won deals per band against the team's and the target mix in "
    "params/report.yaml.":
        "دسته‌های اندازه‌ی معامله: کوچک / متوسط / بزرگ، برای هر الگوی کسب‌وکار با "
        "خوشه‌بندی کا-میانگین (سه خوشه) روی لگاریتم مبلغ معاملات برده در ۱۲ ماه پیش "
        "از پایان دوره آموخته می‌شوند؛ مرزها نقطه‌ی میانی هندسی میان مراکز خوشه‌ها "
        "هستند. ترکیب دسته‌ها: سهم هر کارشناس از معاملات برده در هر دسته در برابر "
        "ترکیب تیم و ترکیب هدف در params/report.yaml.",
    "Predicted customer value: revenue each account is expected to bring over the "
    "next 12 months, from the model that backtests best on this company's revenue "
    "(BG/NBD with average spend, Gamma-Gamma spend, RFM segments, a gradient-boosted "
    "regressor or shifted-beta-geometric retention), scored by |aggregate error| + (1"
    " - Spearman) on the last 6 months held out; averaged per acquiring rep and "
    "account manager.":
        "ارزش پیش‌بینی‌شده‌ی مشتری: درآمدی که انتظار می‌رود هر حساب در ۱۲ ماه آینده "
        "بیاورد، از مدلی که در آزمون گذشته‌نگر روی درآمد همین شرکت بهترین نتیجه را "
        "داده است (بتا-هندسی/دوجمله‌ای منفی با میانگین خرید، گاما-گاما، بخش‌بندی "
        "تازگی-دفعات-مبلغ، رگرسور تقویت گرادیان یا ماندگاری بتا-هندسی انتقال‌یافته)، "
        "با امتیاز |خطای کل| + (۱ − اسپیرمن) روی ۶ ماه کنارگذاشته؛ میانگین برای هر "
        "جذب‌کننده و هر مدیر حساب.",
    "Forecast of bookings: the deals open at the as-of time (the state just before "
    "it) won within the horizon [as-of, as-of + horizon days), counted and valued at "
    "their amount known then (unknown amounts: the product's trailing 12-month mean "
    "won amount). The model's expected count is the sum of each deal's win "
    "probability, with an 80% interval from the exact distribution of a sum of "
    "independent wins (Poisson-binomial; value by simulation); new deals expected to "
    "be created and won within the horizon are added from the recent creation rate "
    "and how soon past deals were won. For comparison: the CRM's weighted pipeline "
    "(amount x probability of deals expected to close within the horizon), the commit"
    " category, and the naive forecast (open deals x trailing 12-month win rate).":
        "پیش‌بینی فروش: معاملاتی که در لحظه‌ی مبنا (وضعیتِ درست پیش از آن) باز بودند "
        "و در افق [لحظه‌ی مبنا، لحظه‌ی مبنا + روزهای افق) برده می‌شوند، شمرده و با "
        "مبلغی که آن زمان معلوم بود ارزش‌گذاری می‌شوند (مبلغ نامعلوم: میانگین مبلغ "
        "برده‌ی همان محصول در ۱۲ ماه گذشته). تعداد مورد انتظار مدل، جمع احتمال برد "
        "تک‌تک معاملات است، با بازه‌ی ۸۰٪ از توزیع دقیق جمع بردهای مستقل "
        "(پواسون-دوجمله‌ای؛ ارزش با شبیه‌سازی)؛ معاملات تازه‌ای که انتظار می‌رود در "
        "افق ایجاد و برده شوند، از نرخ ایجاد اخیر و فاصله‌ی زمانی برد معاملات گذشته "
        "افزوده می‌شوند. برای مقایسه: قیف وزن‌دار CRM (مبلغ × احتمالِ معاملاتی که "
        "انتظار می‌رود در افق بسته شوند)، رده‌ی «قطعی» (commit) و پیش‌بینی ساده "
        "(معاملات باز × نرخ برد ۱۲ ماه گذشته).",
    "Win probability: a gradient-boosted classifier (scikit-learn), calibrated by "
    "isotonic regression on its latest training origins, trained on the deals open at"
    " past month-ends whose horizon had ended, with only what was known at each: "
    "stage, age, days in stage, amount, days to the expected close date, close-date "
    "pushes, source, product, the CRM's probability and the owner's trailing win "
    "rate. Fields the deal history does not cover at a past date are unknown then, "
    "never taken from the current record. Calibration: Brier score against the base "
    "rate's and the CRM probability's, and a reliability table.":
        "احتمال برد: یک طبقه‌بند تقویت گرادیانی (کتابخانه‌ی سایکیت‌لرن)، واسنجی‌شده "
        "با رگرسیون هم‌نوا روی تازه‌ترین مبداهای آموزشی‌اش، آموزش‌دیده روی معاملاتی "
        "که در پایان ماه‌های گذشته باز بودند و افقشان سپری شده بود، فقط با آنچه در هر"
        " یک از آن زمان‌ها معلوم بود: مرحله، عمر، روزهای ماندن در مرحله، مبلغ، روزهای"
        " مانده تا تاریخ بستن مورد انتظار، تعویق‌های تاریخ بستن، منبع، محصول، احتمال "
        "CRM و نرخ برد اخیر مالک معامله. فیلدهایی که سابقه‌ی معامله در یک تاریخ گذشته"
        " پوشش نمی‌دهد، در آن زمان نامعلوم‌اند و هرگز از رکورد فعلی برداشته نمی‌شوند."
        " واسنجی: امتیاز بریر در برابر امتیاز نرخ پایه و احتمال CRM، و جدول "
        "اعتمادپذیری.",
    "Forecast backtest: at each of the last 12 month-ends with a full horizon of "
    "outcomes, every method forecasts from what was known then (the model trained "
    "only on earlier month-ends whose horizon had ended) and is compared with the "
    "bookings that followed: MAPE of count and value (mean of |forecast - actual| / "
    "actual over the month-ends), share of month-ends inside the 80% interval, Brier "
    "score. The report uses the method with the lowest value error.":
        "آزمون گذشته‌نگر پیش‌بینی: در هر یک از ۱۲ پایان ماه اخیر که نتیجه‌های کل "
        "افقشان معلوم است، هر روش از روی آنچه آن زمان معلوم بود پیش‌بینی می‌کند (مدل "
        "فقط روی پایان ماه‌های پیشینی آموزش می‌بیند که افقشان سپری شده بود) و با "
        "فروشی که پس از آن ثبت شد مقایسه می‌شود: میانگین درصد قدرمطلق خطای تعداد و "
        "ارزش (میانگین |پیش‌بینی - واقعی| / واقعی روی پایان ماه‌ها)، سهم پایان "
        "ماه‌هایی که درون بازه‌ی ۸۰٪ افتادند، و امتیاز بریر. گزارش روشی را به کار "
        "می‌برد که کمترین خطای ارزش را دارد.",
    "Sales velocity (revenue per day): open deals at the period start x win rate (won"
    " / closed in the period) x average won deal (mean amount won in the period) / "
    "cycle days (mean days from creation to win of the deals won in the period). Its "
    "change from the previous period is split into the four factors with the "
    "logarithmic mean Divisia index: each factor's effect = L(V1, V0) x ln(factor now"
    " / factor before), with L(a, b) = (a - b) / (ln a - ln b), the cycle's with a "
    "minus sign; the four effects add up exactly to the change. Where a factor is 0 "
    "or not computable in either period the change is shown without a split.":
        "سرعت فروش (درآمد در روز): معاملات باز در آغاز دوره × نرخ برد (برده / "
        "بسته‌شده در دوره) × میانگین معامله‌ی برده (میانگین مبلغ برده در دوره) / "
        "روزهای چرخه (میانگین روزها از ایجاد تا برد برای معاملات برده‌ی دوره). تغییر "
        "آن نسبت به دوره‌ی قبل با شاخص دیویژیای میانگین لگاریتمی میان چهار عامل تقسیم"
        " می‌شود: اثر هر عامل = L(V1, V0) × ln(عامل اکنون / عامل پیشین)، با L(a, b) ="
        " (a - b) / (ln a - ln b)، و اثر چرخه با علامت منفی؛ جمع چهار اثر دقیقاً "
        "برابر تغییر است. اگر عاملی در یکی از دو دوره صفر یا محاسبه‌ناپذیر باشد، "
        "تغییر بدون تفکیک نشان داده می‌شود.",
    # --- session 7 persian: end
})

_CATALOGUES = {"fa": FA}

#: words the code passes into a template as a parameter (a finding's direction, the pacing
#: method, the factor that moved velocity), by parameter name: a translated template
#: formats them in its own language (:class:`Message`)
FA_PARAMETERS: dict[str, dict[str, str]] = {
    "direction": {"rose": "افزایش یافت", "fell": "کاهش یافت"},
    "method": {"linear": "خطی", "seasonal": "فصلی"},
    "factor": {"open deals": "تعداد معاملات باز", "win rate": "نرخ برد",
               "average won deal": "میانگین معامله\u200cی برده", "cycle days": "طول چرخه"},
}
_PARAMETERS = {"fa": FA_PARAMETERS}
#: text already in the language (a caption translated and formatted before it reaches
#: ``tr`` a second time, e.g. by ``show_table``) is not a key: it passes unchanged
_SCRIPT = {"fa": re.compile("[\u0600-\u06ff]")}
#: a value the code writes into a label (a currency code, a figure) stands for a
#: placeholder of the key: 'Booked (USD)' is 'Booked ({currency})', 'median rep 0.20' is
#: 'median rep {value}'
_SLOTS = ((re.compile(r"\b[A-Z]{3}\b"), "{currency}"),
          (re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?%?(?![\w.])"), "{value}"))

FA_GREGORIAN_MONTHS = ("ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت",
                       "سپتامبر", "اکتبر", "نوامبر", "دسامبر")
JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان",
                 "آذر", "دی", "بهمن", "اسفند")


def tr(text: str, language: str = "en") -> str:
    """``text`` in ``language``; English (and a note in ``MISSING``) when untranslated."""
    if language == "en" or not text:
        return text
    if language not in _CATALOGUES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    if _SCRIPT[language].search(text):
        return text
    out = _lookup(text, _CATALOGUES[language])
    if out is None:
        MISSING.add(text)
        return text
    return Message(out, _PARAMETERS.get(language)) if "{" in out else out


def _lookup(text: str, catalogue: dict[str, str]) -> str | None:
    """The translation of ``text``, else of ``text`` with one currency code or figure in
    it standing for ``{currency}`` / ``{value}`` (put back into the translation)."""
    out = catalogue.get(text)
    if out is not None:
        return out
    for pattern, slot in _SLOTS:
        for m in pattern.finditer(text):
            key = text[:m.start()] + slot + text[m.end():]
            if key in catalogue:
                return catalogue[key].replace(slot, m.group())
    return None


class Message(str):
    """A translated template whose :meth:`format` also gives the word parameters of
    :data:`FA_PARAMETERS` ('rose', 'linear') in the template's language; other values are
    formatted as they are."""

    def __new__(cls, text: str, words: dict[str, dict[str, str]] | None = None):
        obj = super().__new__(cls, text)
        obj.words = words or {}
        return obj

    def format(self, *args, **kwargs) -> str:
        kwargs = {k: self.words.get(k, {}).get(v, v) if isinstance(v, str) else v
                  for k, v in kwargs.items()}
        return str.format(self, *args, **kwargs)


# character and entity references (``&#39;``, ``&#x27;``, ``&amp;``) are markup, not text:
# their digits must stay ASCII, or ``&#۳۹;`` is no longer a reference (and WeasyPrint was
# seen laying out such a page for 20 minutes)
_REFERENCE = re.compile(r"(&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def _digits(text: str) -> str:
    return text.translate(_FA_DIGITS).replace(",", "٬")


def localize_numbers(text: str, language: str = "en") -> str:
    """Persian digits and percent sign for ``fa``; unchanged for ``en``. Character
    references such as ``&#39;`` are left as they are."""
    if language != "fa" or not re.search(r"\d", text):
        return text
    parts = _REFERENCE.split(text)
    return "".join(p if i % 2 else _digits(p) for i, p in enumerate(parts))


_TEXT_NODE = re.compile(r">([^<]+)<")


def localize_html(html: str, language: str = "en") -> str:
    """Persian digits in the text between tags of an HTML fragment (never in tags,
    attributes, URIs or character references)."""
    if language != "fa":
        return html
    return _TEXT_NODE.sub(lambda m: ">" + localize_numbers(m.group(1), language) + "<", html)


def jalali(d: date) -> tuple[int, int, int]:
    """Gregorian date -> Jalali (Solar Hijri) year, month, day (jdatetime)."""
    import jdatetime

    j = jdatetime.date.fromgregorian(date=d)
    return j.year, j.month, j.day


def format_date(d: date, language: str = "en", calendar: str = "gregorian") -> str:
    """A date as readers of ``language`` expect it: ISO in English; '9 مهر ۱۴۰۵' (Jalali)
    or '1 اکتبر ۲۰۲۶' (Gregorian) in Persian."""
    if language != "fa":
        return d.isoformat()
    if calendar == "jalali":
        y, m, dd = jalali(d)
        return localize_numbers(f"{dd} {JALALI_MONTHS[m - 1]} {y}", "fa")
    return localize_numbers(f"{d.day} {FA_GREGORIAN_MONTHS[d.month - 1]} {d.year}", "fa")


def period_title(period, language: str = "en", calendar: str = "gregorian") -> str:
    """The period's title: 'October 2026'; 'اکتبر ۲۰۲۶'; or, in the Jalali calendar, the
    Jalali dates it spans ('۱۰ مهر تا ۹ آبان ۱۴۰۵')."""
    if language != "fa":
        return period.title
    start, last = period.start.date(), period.last_day.date()
    if calendar == "jalali":
        (y1, m1, d1), (y2, m2, d2) = jalali(start), jalali(last)
        left = f"{d1} {JALALI_MONTHS[m1 - 1]}" + ("" if y1 == y2 else f" {y1}")
        return localize_numbers(f"{left} تا {d2} {JALALI_MONTHS[m2 - 1]} {y2}", "fa")
    if period.kind == "month":
        return localize_numbers(f"{FA_GREGORIAN_MONTHS[start.month - 1]} {start.year}", "fa")
    if period.kind == "quarter":
        return localize_numbers(f"فصل {(start.month - 1) // 3 + 1} {start.year}", "fa")
    if period.kind == "year":
        return localize_numbers(str(start.year), "fa")
    return f"{format_date(start, 'fa')} تا {format_date(last, 'fa')}"
