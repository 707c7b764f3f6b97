"""`flask demo`: a believable quarter of service work, built through the real services.

Two retail chains with a dozen branches around Tashkent, six technicians (one on
leave since twelve days ago, which makes the fallback to secondaries visible), users
of every role sharing one demo password, and ~200 tickets created over the last 90
days. Each ticket follows a script (respond, arrive, photograph, complete, approve or
reject, sometimes decline or close early) played out by the services themselves while
the clock (`app.clock.set_now`) walks forward, so timelines, due times, SLA hits
and misses, escalations and costs are what the app would have recorded. Steps that
would fall after "now" are not played, which leaves the recent tickets open in every
status.

Working calendars and pauses (issue 19): every branch but one counts its SLA in the
company's working week ("Company week": Asia/Tashkent, Uzbek public holidays, Mon-Sat
08:00-20:00); PF-05, a hypermarket open day and night, has none (around the clock).
Tickets get their due times from `tickets.create_ticket`, i.e. on their branch's
calendar. Some work stops for a while (waiting for parts, no access to the store...):
resumed pauses in the past, and at the end one open pause of each reason.

Only into an empty database (no tickets, no users) unless forced; the caller commits.
"""
from __future__ import annotations

import base64
import heapq
import io
import itertools
import logging
import math
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    Customer,
    CustomerBranch,
    IssueSubcategory,
    PauseReason,
    ServiceTicket,
    Technician,
    TechnicianStatus,
    TicketPause,
    TicketPriority,
    TicketStatus,
    User,
    WorkingCalendar,
)
from app import clock
from app.services import (
    assignment,
    calendars,
    completions,
    notifications,
    photos,
    reference,
    technicians,
    tickets,
    users,
)

DOMAIN = "evercold.example"
SEED = 20261124

CUSTOMERS = ("Bahor Market", "Polar Foods")

# (customer index, code, name, address, contact person, phone, latitude, longitude)
BRANCHES = [
    (0, "BM-01", "Bahor Chilonzor", "14 Bunyodkor Ave, Chilonzor", "Dilnoza Karimova", "+998 71 276 11 01", 41.2756, 69.2034),
    (0, "BM-02", "Bahor Yunusobod", "7 Amir Temur Ave, Yunusobod", "Sherzod Tursunov", "+998 71 235 40 12", 41.3656, 69.2890),
    (0, "BM-03", "Bahor Mirzo Ulugbek", "22 Mustaqillik Ave, Mirzo Ulugbek", "Malika Yusupova", "+998 71 262 18 33", 41.3380, 69.3350),
    (0, "BM-04", "Bahor Sergeli", "3 Yangi Sergeli St, Sergeli", "Anvar Qodirov", "+998 71 295 07 44", 41.2260, 69.2190),
    (0, "BM-05", "Bahor Yakkasaroy", "41 Shota Rustaveli St, Yakkasaroy", "Gulnora Saidova", "+998 71 256 62 05", 41.2870, 69.2560),
    (0, "BM-06", "Bahor Shayxontohur", "9 Navoi St, Shayxontohur", "Bobur Aliyev", "+998 71 244 19 26", 41.3220, 69.2280),
    (1, "PF-01", "Polar Olmazor", "55 Farobiy St, Olmazor", "Nodira Rakhimova", "+998 71 246 33 17", 41.3520, 69.2210),
    (1, "PF-02", "Polar Yashnobod", "18 Parkent St, Yashnobod", "Javlon Ergashev", "+998 71 268 75 28", 41.2930, 69.3350),
    (1, "PF-03", "Polar Mirobod", "2 Afrosiyob St, Mirobod", "Kamola Nazarova", "+998 71 252 90 39", 41.2950, 69.2830),
    (1, "PF-04", "Polar Uchtepa", "31 Lutfiy St, Uchtepa", "Ulugbek Mirzayev", "+998 71 273 48 40", 41.2970, 69.1720),
    (1, "PF-05", "Polar Bektemir", "6 Husayn Boyqaro St, Bektemir", "Feruza Abdullayeva", "+998 71 294 51 61", 41.2090, 69.3340),
    (1, "PF-06", "Polar Yangihayot", "12 Yangihayot Ave, Yangihayot", "Sanjar Xolmatov", "+998 71 297 26 72", 41.2000, 69.2500),
]

# (key, name, phone)
TECHNICIANS = [
    ("timur", "Timur Rashidov", "+998 90 111 22 01"),
    ("sardor", "Sardor Aliev", "+998 90 111 22 02"),
    ("jasur", "Jasur Karimov", "+998 90 111 22 03"),
    ("aziz", "Aziz Nematov", "+998 90 111 22 04"),
    ("bekzod", "Bekzod Usmonov", "+998 90 111 22 05"),
    ("rustam", "Rustam Xolmatov", "+998 90 111 22 06"),
]
ON_LEAVE = "bekzod"
ON_LEAVE_DAYS_AGO = 12

# Territories: branch code -> technician key. PF-04 has nobody behind its primary
# (on leave), so its tickets wait for a dispatcher; PF-06's secondary is on leave.
PRIMARY = {"BM-01": "timur", "BM-02": "timur", "BM-03": "sardor", "BM-04": "sardor", "BM-05": "jasur",
           "BM-06": "jasur", "PF-01": "aziz", "PF-02": "aziz", "PF-03": "bekzod", "PF-04": "bekzod",
           "PF-05": "rustam", "PF-06": "rustam"}
SECONDARY = {"BM-01": "sardor", "BM-02": "jasur", "BM-03": "timur", "BM-04": "jasur", "BM-05": "sardor",
             "BM-06": "timur", "PF-01": "rustam", "PF-02": "rustam", "PF-03": "aziz", "PF-05": "aziz",
             "PF-06": "bekzod"}


# The company's working week: the SLA minutes of tickets at these branches count only
# inside it (services/calendars.py). PF-05 works around the clock: no calendar.
COMPANY_CALENDAR = {
    "name": "Company week", "timezone": "Asia/Tashkent", "country": "UZ", "holidays": [],
    "week": {**{d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}, "sun": []},
}
ROUND_THE_CLOCK = "PF-05"

# Pauses of the resolution clock (issue 19). Their own random stream, so that adding
# them left every other draw of the demo (and so its tickets) as it was.
PAUSE_SEED = SEED + 19
PAUSE_NOTES = {
    PauseReason.WAITING_PARTS: ["Compressor ordered from the Chilonzor warehouse.", "Fan motor on its way."],
    PauseReason.NO_ACCESS: ["Loading bay locked, the key holder is away.", "Store closed for stocktaking."],
    PauseReason.STORE_REQUEST: ["Manager asked to come back after the evening rush.", "Delivery unloading, come later."],
    PauseReason.PRODUCT_BEING_MOVED: ["Chamber being emptied into the spare one.", "Frozen goods moved out first."],
    PauseReason.OTHER: ["Power cut in the district.", "Waiting for the landlord's electrician."],
}
# The open pauses at the end: one of each reason, (hours ago it was created, branch,
# priority, minutes after creation it was paused). The one on PF-02 is past
# PAUSE_ALERT_HOURS (48 h): dispatchers were alerted.
OPEN_PAUSES = [
    (PauseReason.WAITING_PARTS, 30, "BM-04", TicketPriority.NORMAL, 6 * 60),
    (PauseReason.NO_ACCESS, 5, "PF-05", TicketPriority.HIGH, 100),
    (PauseReason.STORE_REQUEST, 4, "BM-06", TicketPriority.LOW, 150),
    (PauseReason.PRODUCT_BEING_MOVED, 9, "PF-03", TicketPriority.NORMAL, 4 * 60),
    (PauseReason.OTHER, 56, "PF-02", TicketPriority.NORMAL, 5 * 60),
]


def _manager_email(code: str) -> str:
    return f"manager.{code.lower()}@{DOMAIN}"


DEMO_LOGINS: list[tuple[str, str]] = (
    [("admin", f"admin@{DOMAIN}"), ("dispatcher", f"dispatcher@{DOMAIN}"), ("dispatcher", f"dispatcher2@{DOMAIN}")]
    + [("technician", f"{key}@{DOMAIN}") for key, _, _ in TECHNICIANS]
    + [("store_manager", _manager_email(b[1])) for b in BRANCHES]
)

# Each demo login's language (`users.locale`): the Tashkent team works in Russian and
# Uzbek at least as often as in English. Logins not listed read English.
DEMO_LANGUAGES: dict[str, str] = {
    f"dispatcher2@{DOMAIN}": "ru",
    f"timur@{DOMAIN}": "ru", f"sardor@{DOMAIN}": "uz", f"jasur@{DOMAIN}": "ru", f"aziz@{DOMAIN}": "uz",
    **{_manager_email(code): lang for code, lang in (
        ("BM-01", "ru"), ("BM-02", "uz"), ("BM-03", "ru"), ("BM-04", "uz"), ("BM-06", "ru"),
        ("PF-01", "uz"), ("PF-02", "ru"), ("PF-04", "uz"), ("PF-05", "ru"))},
}


def demo_language(email: str) -> str:
    """The demo login's language ("en", "ru", "uz")."""
    return DEMO_LANGUAGES.get(email, "en")


DESCRIPTIONS = {
    "Cold Chambers": [
        "Walk-in chamber holding at +9°C, should be +2°C. Dairy moved to the display fridges.",
        "Cold room door does not seal, ice building up on the frame.",
        "Chamber evaporator iced over, airflow very weak.",
        "Meat chamber alarm keeps going off at night, temperature creeps up to +6°C.",
        "Frost on the chamber floor, door closer broken.",
    ],
    "Glass Repair": [
        "Cracked glass door on the beverage cooler (aisle 3), customers can't open it safely.",
        "Glass on the open-front dairy case chipped after a trolley hit it.",
        "Double glazing fogged inside on the freezer island, products not visible.",
        "Sliding glass lid of the ice-cream freezer is broken.",
    ],
    "Temperature Control": [
        "Thermostat display shows E1 and the fridge runs non-stop.",
        "Display case too cold: yoghurts freezing at -2°C.",
        "Temperature logger shows swings between +1 and +8°C every hour.",
        "Controller lost its settings after a power cut, defrost not running.",
    ],
    "Leaking Water": [
        "Water pooling under the dairy display case, floor slippery.",
        "Drain pipe of the chamber evaporator is dripping onto boxes.",
        "Condensate tray overflowing behind the beverage coolers.",
        "Leak from the freezer island defrost drain, puddle every morning.",
    ],
    "Equipment Not Working": [
        "Beverage cooler does not power on at all; breaker is fine.",
        "Freezer island compressor clicks and stops after a few seconds.",
        "Display fridge lights on but no cooling since this morning.",
        "Ice-cream freezer dead after the weekend, stock moved out.",
    ],
    "Noise/Vibration": [
        "Loud rattling from the condenser unit on the roof, neighbours complaining.",
        "Fan in the display case grinding, getting louder every day.",
        "Whole chamber vibrates when the compressor starts.",
        "High-pitched whine from the beverage cooler fan.",
    ],
}

# What a store manager who reads Russian or Uzbek types when reporting, in their own
# words: data, stored and shown as typed (never translated).
LOCAL_DESCRIPTIONS = {
    "ru": {
        "Cold Chambers": [
            "Камера держит +9, должно быть +2. Молочку переложили в витрины.",
            "Дверь холодильной камеры не закрывается плотно, на раме намерзает лёд.",
            "В мясной камере ночью срабатывает сигнализация, температура поднимается до +6.",
        ],
        "Glass Repair": [
            "Треснуло стекло на двери холодильника с напитками (3-й ряд), покупатели боятся открывать.",
            "Тележкой разбили стекло на открытой витрине с молочкой.",
            "Сломалась раздвижная крышка на морозильнике с мороженым.",
        ],
        "Temperature Control": [
            "На термостате ошибка E1, холодильник работает без остановки.",
            "Витрина слишком холодная, йогурты замерзают при -2.",
            "После отключения света контроллер сбросил настройки, оттайка не идёт.",
        ],
        "Leaking Water": [
            "Под витриной с молочкой лужа, пол скользкий.",
            "С дренажа испарителя в камере капает прямо на коробки.",
            "Каждое утро лужа возле морозильного острова.",
        ],
        "Equipment Not Working": [
            "Холодильник с напитками вообще не включается, автомат в порядке.",
            "Компрессор морозильного острова щёлкает и через пару секунд выключается.",
            "Витрина светится, но с утра не холодит.",
        ],
        "Noise/Vibration": [
            "Сильно гремит наружный блок на крыше, соседи жалуются.",
            "Вентилятор в витрине скрежещет, с каждым днём всё громче.",
            "Когда включается компрессор, трясётся вся камера.",
        ],
    },
    "uz": {
        "Cold Chambers": [
            "Kamera +9 da turibdi, +2 boʻlishi kerak. Sut mahsulotlarini vitrinalarga oʻtkazdik.",
            "Sovutish kamerasining eshigi zich yopilmayapti, ramkasida muz bosib qolgan.",
            "Goʻsht kamerasida kechasi signal chalinyapti, harorat +6 gacha koʻtariladi.",
        ],
        "Glass Repair": [
            "Ichimliklar sovutgichining oynali eshigi yorilib ketgan (3-qator), xaridorlar ochishga qoʻrqishyapti.",
            "Aravacha urilib, ochiq sut vitrinasining oynasi sindi.",
            "Muzqaymoq muzlatgichining surma qopqogʻi singan.",
        ],
        "Temperature Control": [
            "Termostatda E1 xatosi chiqyapti, sovutgich toʻxtamasdan ishlayapti.",
            "Vitrina juda sovuq, yogurtlar -2 da muzlab qolyapti.",
            "Svet oʻchgandan keyin kontroller sozlamalari oʻchib ketdi, ottayka ishlamayapti.",
        ],
        "Leaking Water": [
            "Sut vitrinasi tagida suv yigʻilib qolyapti, pol sirpanchiq.",
            "Kameradagi bugʻlatgichning drenajidan qutilar ustiga suv tomyapti.",
            "Har kuni ertalab muzlatgich oroli yonida koʻlmak boʻladi.",
        ],
        "Equipment Not Working": [
            "Ichimliklar sovutgichi umuman yonmayapti, avtomat joyida.",
            "Muzlatgich kompressori chiqillab, bir necha soniyadan keyin oʻchib qoladi.",
            "Vitrinaning chirogʻi yonyapti, lekin ertalabdan beri sovutmayapti.",
        ],
        "Noise/Vibration": [
            "Tomdagi tashqi blok qattiq taraqlayapti, qoʻshnilar shikoyat qilyapti.",
            "Vitrinadagi ventilyator gʻijirlayapti, kundan kunga balandroq.",
            "Kompressor yonganda butun kamera titraydi.",
        ],
    },
}

# subcategory -> [(part, unit cost)]
PARTS = {
    "Cold Chambers": [("Door gasket 2m", "24.00"), ("Door closer", "38.00"), ("Evaporator fan motor", "65.00"),
                      ("Refrigerant R404A (kg)", "18.00"), ("Defrost heater", "42.00")],
    "Glass Repair": [("Tempered glass door panel", "180.00"), ("Door hinge set", "12.50"),
                     ("Glass lid, sliding", "95.00"), ("Anti-fog heater strip", "31.00")],
    "Temperature Control": [("Digital thermostat", "38.50"), ("Temperature probe", "9.80"),
                            ("Controller board", "120.00"), ("Defrost timer", "27.00")],
    "Leaking Water": [("Drain hose 1m", "6.50"), ("Drain heater cable", "27.00"), ("Condensate pump", "58.00"),
                      ("Drip tray", "19.00")],
    "Equipment Not Working": [("Compressor start relay", "14.00"), ("Run capacitor", "8.75"),
                              ("Compressor 1/2 HP", "420.00"), ("Filter drier", "14.00"),
                              ("Refrigerant R134a (kg)", "16.00")],
    "Noise/Vibration": [("Condenser fan motor", "72.00"), ("Fan blade", "11.00"),
                        ("Anti-vibration mounts (set)", "6.50"), ("Fan bearing kit", "16.00")],
}

WORK = {
    "Cold Chambers": "Replaced the worn parts, cleared the ice, checked refrigerant charge; chamber back to +2°C within the hour.",
    "Glass Repair": "Removed the damaged glass, fitted the new panel and adjusted the hinges; door closes and seals.",
    "Temperature Control": "Replaced the faulty control parts, recalibrated the setpoint and tested a defrost cycle.",
    "Leaking Water": "Cleared the blocked drain, replaced the damaged parts and dried the area; no drips after 30 minutes.",
    "Equipment Not Working": "Diagnosed the electrical fault, replaced the failed components and ran the unit under load.",
    "Noise/Vibration": "Replaced the noisy fan parts and fitted new mounts; unit runs quietly now.",
}

DECLINE_REASONS = ["On another job across town, can't get there today.", "Needs a glass specialist.",
                   "Van in the workshop until tomorrow.", "Parts for this model are with the other team."]
CLOSE_REASONS = ["Duplicate of an earlier ticket for the same fridge.",
                 "Store staff fixed it: the plug had been pulled during cleaning.",
                 "Unit to be replaced under warranty by the supplier."]
REJECT_REASONS = ["The fridge was back at +9°C this morning.", "Still dripping under the case.",
                  "The noise came back an hour after the technician left.",
                  "The new glass has a scratch across the middle."]
INTERNAL_NOTES = ["Called the store: they moved stock to the back chamber.",
                  "Same unit failed last month, check the compressor this time.",
                  "Store asks for a visit before 10:00, deliveries after that."]
STORE_NOTES = ["Please use the back entrance, the front is closed for renovation.",
               "Ask for the duty manager at the counter."]


# --- images ---------------------------------------------------------------------

def _photo_jpegs() -> list[bytes]:
    """A few small JPEGs that look like snapshots of a fridge (drawn, not downloaded)."""
    from PIL import Image, ImageDraw

    out = []
    palettes = [((206, 214, 222), (90, 120, 150)), ((222, 212, 198), (140, 110, 80)),
                ((200, 220, 210), (70, 120, 100)), ((230, 225, 230), (110, 100, 130))]
    for i, (bg, fg) in enumerate(palettes):
        img = Image.new("RGB", (320, 240), bg)
        d = ImageDraw.Draw(img)
        d.rectangle([80, 28, 240, 226], outline=fg, width=5)
        for y in range(60, 220, 40):
            d.line([88, y, 232, y], fill=fg, width=3)
        d.rectangle([222, 100, 229, 150], fill=fg)
        d.text((16, 12), f"Evercold demo photo {i + 1}", fill=(30, 30, 30))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=80)
        out.append(buf.getvalue())
    return out


def _signature_data_url(seed: int) -> str:
    """A handwriting-like stroke on a transparent canvas, as a PNG data URL."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
    points = [(20 + x * 4, 60 + 30 * math.sin(x / (5 + seed % 4)) * math.cos(x / 17)) for x in range(80)]
    ImageDraw.Draw(img).line(points, fill=(20, 30, 90, 255), width=3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


# --- the generator ----------------------------------------------------------------

def has_data() -> bool:
    """Demo data only goes into a database with no tickets and no users."""
    return (db.session.execute(select(ServiceTicket.id).limit(1)).first() is not None
            or db.session.execute(select(User.id).limit(1)).first() is not None)


def load_demo(force: bool = False) -> list[tuple[str, str]] | None:
    """Load the demo world; None (nothing written) when the database already has data
    and `force` is not set. Returns the demo logins (role, email). Flushes only."""
    if not force and has_data():
        return None
    previous = clock._frozen  # a test may have frozen the clock: put it back afterwards
    end = clock.now()
    sweep_log = logging.getLogger("app.services.sla")
    level = sweep_log.level
    sweep_log.setLevel(logging.WARNING)  # ~80 replayed sweeps would each log a line
    try:
        _Demo(end, random.Random(SEED)).build()
    finally:
        clock.set_now(previous)
        sweep_log.setLevel(level)
    return list(DEMO_LOGINS)


class _Demo:
    def __init__(self, end: datetime, rng: random.Random):
        self.end = end
        self.start = end - timedelta(days=91)
        self.rng = rng
        self.cfg = current_app.config
        self.password = self.cfg.get("DEMO_PASSWORD") or "evercold"
        self.tz = ZoneInfo(self.cfg.get("APP_TIMEZONE") or "UTC")
        self.rate = Decimal(str(self.cfg.get("DEFAULT_LABOR_RATE") or "45.00"))
        self.radius = self.cfg.get("ARRIVAL_RADIUS_M", 500)
        self.queue: list = []
        self.tickets: list[ServiceTicket] = []
        self.last_seen: dict[str, tuple[datetime, float, float]] = {}
        self.seq = itertools.count()
        self.jpegs = _photo_jpegs()
        self.signatures = [_signature_data_url(i) for i in range(4)]
        self.sweep = _find_sla_sweep()
        self.pause_rng = random.Random(PAUSE_SEED)
        self.pauses = _find_pause_service()

    # -- setup --------------------------------------------------------------------

    def _user(self, role: str, email: str, name: str, **extra) -> User:
        existing = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if existing is not None:
            return existing
        user = users.create_user({"email": email, "password": self.password, "role": role, "name": name, **extra})
        # The demo phone numbers are made up: never text them, even with a gateway set.
        contact = {"notifySms": False}
        if demo_language(email) != "en":
            contact["locale"] = demo_language(email)
        return users.update_contact(user, contact)

    def build(self) -> None:
        from app.cli import seed_categories

        clock.set_now(self.start)
        category = seed_categories()
        self.category = category
        self.subcategories = list(db.session.execute(
            select(IssueSubcategory).where(IssueSubcategory.category_id == category.id)
            .order_by(IssueSubcategory.name)).scalars())
        self.admin = self._user("admin", f"admin@{DOMAIN}", "Aziza Admin")
        self.dispatchers = [
            self._user("dispatcher", f"dispatcher@{DOMAIN}", "Dina Dispatcher", phone="+998 90 300 00 01"),
            self._user("dispatcher", f"dispatcher2@{DOMAIN}", "Doston Dispatcher", phone="+998 90 300 00 02"),
        ]

        customers = []
        for name in CUSTOMERS:
            c = db.session.execute(select(Customer).where(Customer.name == name)).scalar_one_or_none()
            customers.append(c or reference.create_customer(self.admin, {"name": name}))
        self.branches: dict[str, CustomerBranch] = {}
        for ci, code, name, address, contact, phone, lat, lon in BRANCHES:
            b = db.session.execute(select(CustomerBranch).where(
                CustomerBranch.customer_id == customers[ci].id, CustomerBranch.branch_code == code)
            ).scalar_one_or_none()
            self.branches[code] = b or reference.create_branch(self.admin, {
                "customerId": customers[ci].id, "branchCode": code, "branchName": name, "address": address,
                "contactPerson": contact, "phone": phone, "latitude": lat, "longitude": lon})
        self.calendar = self._company_calendar()
        for code, b in self.branches.items():
            b.calendar_id = None if code == ROUND_THE_CLOCK else self.calendar.id
        db.session.flush()

        self.techs: dict[str, Technician] = {}
        for key, name, phone in TECHNICIANS:
            email = f"{key}@{DOMAIN}"
            t = db.session.execute(select(Technician).where(Technician.email == email)).scalar_one_or_none()
            if t is None:
                t = technicians.create_technician(self.admin, {"name": name, "phone": phone, "email": email})
            elif t.status != TechnicianStatus.ACTIVE:
                technicians.update_technician(self.admin, t, {"status": "ACTIVE"})
            self.techs[key] = t
        for code, key in PRIMARY.items():
            assignment.assign_to_branch(self.techs[key].id, self.branches[code].id, True, "Tashkent")
        for code, key in SECONDARY.items():
            assignment.assign_to_branch(self.techs[key].id, self.branches[code].id, False, "Tashkent")

        self.tech_users = {t.id: self._user("technician", f"{key}@{DOMAIN}", t.name, technicianId=t.id)
                           for key, t in self.techs.items()}
        self.managers = {b.id: self._user("store_manager", _manager_email(code), b.contact_person,
                                          branchIds=[b.id], phone=b.phone)
                         for code, b in self.branches.items()}

        self._at(self.end - timedelta(days=ON_LEAVE_DAYS_AGO, hours=3), self._go_on_leave, self.techs[ON_LEAVE].id)
        self._at(self.end - timedelta(days=2), self._read_notifications)
        self._plan_tickets()
        self._run()
        self._report_locations()
        __import__("app.demo_equipment").demo_equipment.add_units(self)  # issue 18: units, tickets linked
        clock.set_now(self.end)

    # -- the event loop ---------------------------------------------------------------

    def _at(self, when: datetime, fn, *args) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), fn, args))

    def _run(self) -> None:
        while self.queue:
            when, _, fn, args = heapq.heappop(self.queue)
            if when > self.end:
                break  # the future stays unwritten: recent tickets remain open
            clock.set_now(when)
            fn(*args)
        self.queue.clear()

    # -- planning -----------------------------------------------------------------------

    def _business_time(self, days_ago: float) -> datetime:
        """A moment `days_ago` back, moved into store hours (08:00–20:00 local)."""
        local = (self.end - timedelta(days=days_ago)).astimezone(self.tz)
        local = local.replace(hour=self.rng.randint(8, 19), minute=self.rng.randint(0, 59),
                              second=self.rng.randint(0, 59), microsecond=0)
        when = local.astimezone(timezone.utc)
        while when > self.end - timedelta(minutes=5):
            when -= timedelta(days=1)
        return when

    def _plan_tickets(self) -> None:
        rng = self.rng
        codes = [b[1] for b in BRANCHES]
        weights = [5, 4, 4, 3, 3, 2, 4, 3, 3, 2, 2, 3]  # some stores have older equipment
        priorities = [TicketPriority.CRITICAL, TicketPriority.HIGH, TicketPriority.NORMAL, TicketPriority.LOW]
        # Busier lately (the chains keep opening stores): denser towards today, which
        # also leaves a realistic amount of work open on the board.
        moments = [self._business_time(rng.uniform(10, 90)) for _ in range(133)]
        moments += [self._business_time(10 * rng.random() ** 1.6) for _ in range(60)]
        for when in sorted(moments):
            code = rng.choices(codes, weights)[0]
            priority = rng.choices(priorities, [8, 22, 55, 15])[0]
            self._at(when, self._create, code, priority, None)
        # A few that are pinned relative to now, so every status and the SLA colours show.
        e = self.end
        pinned = [
            # NEW: the branch's only technician is on leave; NEW: declined, nobody else free.
            (e - timedelta(minutes=35), "PF-04", TicketPriority.NORMAL, {}),
            (e - timedelta(hours=3), "PF-06", TicketPriority.HIGH, {"decline": 25}),
            # ASSIGNED: fresh; ASSIGNED with minutes left; escalated to the secondary, unanswered.
            (e - timedelta(minutes=15), "BM-01", TicketPriority.HIGH, {}),
            (e - timedelta(minutes=48), "BM-03", TicketPriority.CRITICAL, {}),
            (e - timedelta(hours=5), "BM-02", TicketPriority.HIGH, {}),
            # IN_PROGRESS on site; COMPLETED, waiting for the store manager.
            (e - timedelta(hours=2, minutes=10), "BM-05", TicketPriority.NORMAL,
             {"respond": 20, "arrive": 55, "before": True}),
            (e - timedelta(hours=7), "PF-01", TicketPriority.NORMAL,
             {"respond": 30, "arrive": 80, "before": True, "complete": 260}),
        ]
        # IN_PROGRESS and paused now: one of each reason.
        for reason, hours_ago, code, priority, paused_after in OPEN_PAUSES:
            pinned.append((e - timedelta(hours=hours_ago), code, priority,
                           {"respond": 20, "arrive": 70, "pause": paused_after, "pause_reason": reason}))
        for when, code, priority, script in pinned:
            self._at(when, self._create, code, priority, script)

    def _random_script(self, ticket: ServiceTicket) -> dict:
        """Minutes after creation for each step of this ticket's life."""
        rng = self.rng
        resp = (ticket.response_due_at - ticket.created_at).total_seconds() / 60
        res = (ticket.resolution_due_at - ticket.created_at).total_seconds() / 60
        s: dict = {}
        if rng.random() < 0.05:
            s["close"] = rng.uniform(30, 30 * 60)
        if rng.random() < 0.07:
            s["decline"] = rng.uniform(8, max(10, min(60, resp * 0.4)))
        if rng.random() < 0.05 and ticket.priority != TicketPriority.CRITICAL:
            s["raise"] = rng.uniform(5, 40)
        if rng.random() < 0.12:
            s["note"] = rng.uniform(5, 120)
        if rng.random() < 0.06:
            s["store_note"] = rng.uniform(2, 30)
        late_response = rng.random() < 0.12
        s["respond"] = resp * (rng.uniform(1.05, 1.8) if late_response else rng.uniform(0.08, 0.85))
        s["arrive"] = s["respond"] + rng.uniform(20, 100)
        s["before"] = rng.random() < 0.2
        s["work_photo"] = rng.random() < 0.04
        stalled = rng.random() < 0.15  # waiting for parts: days, not hours
        if stalled:
            s["complete"] = s["arrive"] + rng.uniform(2, 9) * 24 * 60
        elif rng.random() < 0.15:
            s["complete"] = max(s["arrive"] + 45, res * rng.uniform(1.05, 1.9))
        else:
            s["complete"] = max(s["arrive"] + rng.uniform(40, 240), res * rng.uniform(0.25, 0.9))
        slow_manager = rng.random() < 0.15
        s["decide"] = s["complete"] + (rng.uniform(48, 140) if slow_manager else rng.uniform(0.5, 28)) * 60
        if rng.random() < 0.09:
            s["reject"] = True
            s["recomplete"] = s["decide"] + rng.uniform(3, 30) * 60
            s["decide2"] = s["recomplete"] + rng.uniform(1, 24) * 60
        self._pause_script(s, stalled)
        return s

    def _pause_script(self, s: dict, stalled: bool) -> None:
        """A pause between arrival and completion: stalled work waits for parts (most of
        its days); some other work stops for an hour or two (no access, the store asks to
        wait, goods being moved). Drawn from the pauses' own random stream."""
        prng = self.pause_rng
        window = s["complete"] - s["arrive"]
        if stalled and prng.random() < 0.7:
            start = s["arrive"] + prng.uniform(20, 60)
            s["pause"], s["pause_reason"] = start, PauseReason.WAITING_PARTS
            s["resume"] = s["complete"] - prng.uniform(60, 180)
        elif window > 150 and prng.random() < 0.12:
            reason = prng.choice([PauseReason.NO_ACCESS, PauseReason.STORE_REQUEST, PauseReason.PRODUCT_BEING_MOVED,
                                  PauseReason.OTHER])
            start = s["arrive"] + prng.uniform(10, 30)
            s["pause"], s["pause_reason"] = start, reason
            s["resume"] = start + prng.uniform(30, min(180, window - 60))

    # -- actions ------------------------------------------------------------------------

    def _ticket(self, ticket_id: str) -> ServiceTicket:
        # self.tickets holds them so the (weak) identity map keeps them: no query per step.
        return db.session.get(ServiceTicket, ticket_id)

    def _tech_user(self, ticket: ServiceTicket) -> User:
        return self.tech_users[ticket.assigned_technician_id]

    def _dispatcher(self) -> User:
        return self.rng.choice(self.dispatchers)

    def _create(self, code: str, priority: TicketPriority, pinned: dict | None) -> None:
        rng = self.rng
        branch = self.branches[code]
        sub = rng.choice(self.subcategories)
        by_store = rng.random() < 0.7
        actor = self.managers[branch.id] if by_store else self._dispatcher()
        # A store manager writes in their own language; the office in English.
        local = LOCAL_DESCRIPTIONS.get(actor.locale, {}) if by_store else {}
        descriptions = local.get(sub.name) or DESCRIPTIONS.get(sub.name, ["Cooling equipment fault."])
        data = {"branchId": branch.id, "categoryId": self.category.id, "subcategoryId": sub.id,
                "description": rng.choice(descriptions),
                "priority": priority.value}
        if not by_store and rng.random() < 0.5:
            data["externalId"] = f"CRM-{rng.randint(40000, 49999)}"
        ticket = tickets.create_ticket(actor, data)
        self.tickets.append(ticket)
        t0 = ticket.created_at
        script = self._random_script(ticket) if pinned is None else pinned
        minutes = lambda m: t0 + timedelta(minutes=m)  # noqa: E731
        tid = ticket.id
        steps = (("decline", self._decline, False), ("raise", self._raise_priority, False), ("note", self._note, False),
                 ("store_note", self._store_note, False), ("respond", self._respond, False),
                 ("arrive", self._arrive, True), ("complete", self._complete, True), ("decide", self._decide, True),
                 ("recomplete", self._complete, True), ("close", self._close, False))
        for step, fn, with_script in steps:
            if step in script:
                self._at(minutes(script[step]), fn, *((tid, script) if with_script else (tid,)))
        if "decide2" in script:  # the second look, after a rejection, approves
            self._at(minutes(script["decide2"]), self._decide, tid, {})
        if "pause" in script:
            self._at(minutes(script["pause"]), self._pause, tid, script["pause_reason"])
            if "resume" in script:
                self._at(minutes(script["resume"]), self._resume, tid)
            else:  # still paused at the end: the sweep's long-pause check sees it
                alert = float(self.cfg.get("PAUSE_ALERT_HOURS") or 48)
                self._at(minutes(script["pause"]) + timedelta(hours=alert, minutes=1), self._sla, tid)
        # The SLA sweep runs every minute in production: play it just after each due time
        # this ticket is going to miss, so escalations and alerts happen as they would.
        resp = (ticket.response_due_at - t0).total_seconds() / 60
        res = (ticket.resolution_due_at - t0).total_seconds() / 60
        if script.get("respond", math.inf) > resp:
            self._at(ticket.response_due_at + timedelta(minutes=1), self._sla, tid)
        if script.get("complete", math.inf) > res:
            self._at(ticket.resolution_due_at + timedelta(minutes=1), self._sla, tid)

    def _decline(self, tid: str) -> None:
        t = self._ticket(tid)
        if t.status == TicketStatus.ASSIGNED:
            tickets.decline(t, self.rng.choice(DECLINE_REASONS), self._tech_user(t))

    def _raise_priority(self, tid: str) -> None:
        t = self._ticket(tid)
        order = [TicketPriority.LOW, TicketPriority.NORMAL, TicketPriority.HIGH, TicketPriority.CRITICAL]
        if t.status in OPEN_STATUSES and t.priority != TicketPriority.CRITICAL:
            tickets.change_priority(t, order[order.index(t.priority) + 1], self._dispatcher())

    def _note(self, tid: str) -> None:
        t = self._ticket(tid)
        if t.status != TicketStatus.CLOSED:
            tickets.update_notes(t, self._dispatcher(), internal=self.rng.choice(INTERNAL_NOTES))

    def _store_note(self, tid: str) -> None:
        t = self._ticket(tid)
        if t.status != TicketStatus.CLOSED:
            tickets.update_notes(t, self.managers[t.branch_id], store=self.rng.choice(STORE_NOTES))

    def _assign_someone(self, t: ServiceTicket) -> None:
        """A dispatcher picks up an unassigned ticket: the ACTIVE technician with the
        fewest open tickets."""
        active = [x for x in self.techs.values() if x.status == TechnicianStatus.ACTIVE]
        load = dict(db.session.execute(
            select(ServiceTicket.assigned_technician_id, db.func.count())
            .where(ServiceTicket.status.in_(OPEN_STATUSES)).group_by(ServiceTicket.assigned_technician_id)).all())
        chosen = min(active, key=lambda x: (load.get(x.id, 0), x.name))
        tickets.assign(t, chosen.id, self._dispatcher())

    def _ready(self, t: ServiceTicket, retry) -> bool:
        """Bring the ticket to IN_PROGRESS (accepting for the current technician); a NEW
        ticket gets assigned first and the step is tried again later."""
        if t.status == TicketStatus.NEW:
            self._assign_someone(t)
            self._at(clock.now() + timedelta(minutes=self.rng.uniform(20, 90)), *retry)
            return False
        if t.status == TicketStatus.ASSIGNED:
            tickets.accept(t, self._tech_user(t))
        return t.status == TicketStatus.IN_PROGRESS

    def _respond(self, tid: str) -> None:
        t = self._ticket(tid)
        if t.status in (TicketStatus.NEW, TicketStatus.ASSIGNED):
            self._ready(t, (self._respond, tid))

    def _arrive(self, tid: str, script: dict) -> None:
        t = self._ticket(tid)
        if t.status not in OPEN_STATUSES or not self._ready(t, (self._arrive, tid, script)):
            return
        if t.arrived_at is None:
            lat, lon = self._near(t.branch, far=self.rng.random() < 0.05)
            tickets.arrive(t, self._tech_user(t), lat, lon, self.radius)
            self._location(t, lat, lon)
        if script.get("before"):
            photos.add_photo(t, self._tech_user(t), self.rng.choice(self.jpegs), "before", "Before the repair",
                             "before.jpg")

    def _complete(self, tid: str, script: dict) -> None:
        t = self._ticket(tid)
        if t.status not in OPEN_STATUSES or not self._ready(t, (self._complete, tid, script)):
            return
        tech = self._tech_user(t)
        self._resume(tid)  # the pauses service does this itself; the stand-in below does not
        if t.arrived_at is None:
            tickets.arrive(t, tech, *self._near(t.branch), self.radius)
        rng = self.rng
        if script.get("work_photo"):
            photos.add_photo(t, tech, rng.choice(self.jpegs), "work", "Work in progress", "work.jpg")
        photos.add_photo(t, tech, rng.choice(self.jpegs), "after", "After the repair", "after.jpg")
        sub = t.subcategory.name
        parts = [{"name": name, "quantity": rng.choice([1, 1, 1, 2, 3]), "unitCost": cost}
                 for name, cost in rng.sample(PARTS.get(sub, []), k=min(len(PARTS.get(sub, [])), rng.randint(0, 3)))]
        hours = Decimal(rng.choice(["0.50", "1.00", "1.50", "2.00", "2.50", "3.00", "4.00", "6.00"]))
        completions.complete(t, tech, {"workDescription": WORK.get(sub, "Repaired and tested."),
                                       "laborHours": str(hours), "laborCostPerHour": str(self.rate),
                                       "partsUsed": parts})

    def _decide(self, tid: str, script: dict) -> None:
        t = self._ticket(tid)
        if t.status != TicketStatus.COMPLETED:
            return
        manager = self.managers[t.branch_id]
        db.session.expire(t, ["completions"])  # a long session: see the latest submission
        completion = t.completion
        if script.get("reject"):
            completions.decide(completion, manager, {"action": "reject", "reason": self.rng.choice(REJECT_REASONS)})
        else:
            completions.decide(completion, manager, {"action": "approve", "signedBy": manager.name,
                                                     "signature": self.rng.choice(self.signatures)})

    def _close(self, tid: str) -> None:
        t = self._ticket(tid)
        if t.status in OPEN_STATUSES:
            self._resume(tid)
            tickets.close_without_completion(t, self.rng.choice(CLOSE_REASONS), self._dispatcher())

    def _company_calendar(self) -> WorkingCalendar:
        """The company's working week (validated as the calendar API validates it)."""
        spec = COMPANY_CALENDAR
        existing = db.session.execute(select(WorkingCalendar).where(WorkingCalendar.name == spec["name"])) \
            .scalar_one_or_none()
        if existing is not None:
            return existing
        cal = WorkingCalendar(name=spec["name"], timezone=calendars.validate_timezone(spec["timezone"]),
                              week=calendars.validate_week(spec["week"]), holidays=list(spec["holidays"]),
                              country=spec["country"])
        db.session.add(cal)
        db.session.flush()
        return cal

    def _pause(self, tid: str, reason: PauseReason) -> None:
        """The technician pauses the resolution clock of work in progress."""
        t = self._ticket(tid)
        if t.status != TicketStatus.IN_PROGRESS or t.paused_at is not None:
            return
        note = self.pause_rng.choice(PAUSE_NOTES[reason])
        if self.pauses is not None:
            self.pauses.pause_ticket(t, self._tech_user(t), reason, note)
            return
        # Without the pauses service (a build before issue 19's): what it records.
        t.paused_at, t.pause_reason = clock.now(), reason
        db.session.add(TicketPause(ticket_id=t.id, reason=reason, note=note, paused_at=clock.now(),
                                   paused_by_id=self._tech_user(t).id, technician_id=t.assigned_technician_id,
                                   branch_id=t.branch_id))
        db.session.flush()

    def _resume(self, tid: str) -> None:
        t = self._ticket(tid)
        if t.paused_at is None:
            return
        if self.pauses is not None:
            self.pauses.resume_ticket(t, self._tech_user(t))
            return
        # The stand-in counts the pause around the clock (no calendar arithmetic in such a build).
        now = clock.now()
        minutes = max(0, round((now - t.paused_at).total_seconds() / 60))
        row = db.session.execute(select(TicketPause).where(TicketPause.ticket_id == t.id,
                                                           TicketPause.resumed_at.is_(None))).scalar_one()
        row.resumed_at, row.resumed_by_id = now, self._tech_user(t).id
        row.paused_minutes = row.wall_minutes = minutes
        t.resolution_due_at += timedelta(minutes=minutes)
        t.resolution_warn_at += timedelta(minutes=minutes)
        t.paused_minutes_total = (t.paused_minutes_total or 0) + minutes
        t.paused_at = t.pause_reason = None
        db.session.flush()

    def _go_on_leave(self, tech_id: str) -> None:
        """The technician goes on leave; dispatchers hand their open work to others."""
        tech = db.session.get(Technician, tech_id)
        technicians.update_technician(self.dispatchers[0], tech, {"status": TechnicianStatus.ON_LEAVE.value})
        open_ids = db.session.execute(select(ServiceTicket.id).where(
            ServiceTicket.assigned_technician_id == tech_id, ServiceTicket.status.in_(OPEN_STATUSES))).scalars().all()
        for tid in open_ids:
            self._resume(tid)
            self._assign_someone(self._ticket(tid))

    def _sla(self, tid: str) -> None:
        """One SLA sweep (the real one when the SLA engine provides it)."""
        if self.sweep is not None:
            self.sweep()  # it expires the tickets it changed behind the ORM's back
            return
        # Without the engine, a dispatcher does what the sweep would: hand an unanswered
        # ticket to the branch's secondary.
        t = self._ticket(tid)
        if t.status != TicketStatus.ASSIGNED or t.first_response_at is not None or t.escalation_level:
            return
        secondary = assignment.current_assignments(t.branch_id).get("secondary")
        if (secondary is not None and secondary.technician.status == TechnicianStatus.ACTIVE
                and secondary.technician_id != t.assigned_technician_id):
            tickets.assign(t, secondary.technician_id, self._dispatcher())

    # -- helpers ----------------------------------------------------------------------

    def _near(self, branch: CustomerBranch, far: bool = False) -> tuple[float, float]:
        meters = self.rng.uniform(1500, 4000) if far else self.rng.uniform(10, 250)
        angle = self.rng.uniform(0, 2 * math.pi)
        dlat = meters * math.cos(angle) / 111_320
        dlon = meters * math.sin(angle) / (111_320 * math.cos(math.radians(branch.latitude)))
        return round(branch.latitude + dlat, 6), round(branch.longitude + dlon, 6)

    def _location(self, t: ServiceTicket, lat: float, lon: float) -> None:
        self.last_seen[t.assigned_technician_id] = (clock.now(), lat, lon)

    def _report_locations(self) -> None:
        """Each technician's phone last shared its location where they last arrived."""
        for tech_id, (when, lat, lon) in sorted(self.last_seen.items(), key=lambda kv: kv[1][0]):
            clock.set_now(when)
            tech = db.session.get(Technician, tech_id)
            technicians.update_technician(self.tech_users[tech_id], tech, {"latitude": lat, "longitude": lon})

    def _read_notifications(self) -> None:
        """Everybody caught up with their notifications two days ago; newer ones are unread."""
        for user in db.session.execute(select(User)).scalars():
            notifications.mark_all_read(user)


def _find_pause_service():
    """services/pauses.py (issue 19: pause_ticket, resume_ticket), if this build has it."""
    try:
        from app.services import pauses
    except ImportError:
        return None
    return pauses if callable(getattr(pauses, "pause_ticket", None)) else None


def _find_sla_sweep():
    """The SLA engine's sweep (`services.sla.escalate_overdue`), if this build has one."""
    from app.services import sla

    fn = getattr(sla, "escalate_overdue", None)
    return fn if callable(fn) else None
