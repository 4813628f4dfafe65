"""The words the search benchmark's catalog is made of: categories, product types with
their attributes (English, and Russian agreeing with the noun), brands, colours, variants.

Brands are made up; everything else is what a general store sells.
"""

from __future__ import annotations

from dataclasses import dataclass

Words = tuple[str, str]  # (English, Russian)


@dataclass(frozen=True)
class ProductType:
    """A kind of product: its noun, four attributes, a price range and how it varies."""

    noun: Words
    attributes: tuple[Words, Words, Words, Words]
    price: tuple[int, int]  # USD, a base product's price is drawn log-uniformly in it
    variant: str  # a key of VARIANTS


@dataclass(frozen=True)
class CategoryWords:
    """A category of the catalog: its names, its brands and its product types."""

    slug: str
    name: Words
    brands: tuple[str, ...]
    types: tuple[ProductType, ...]


def _type(noun: Words, attributes: str, price: tuple[int, int], variant: str) -> ProductType:
    """`attributes`: "en/ru;en/ru;en/ru;en/ru"."""
    pairs = [tuple(pair.split("/")) for pair in attributes.split(";")]
    first, second, third, fourth = ((en.strip(), ru.strip()) for en, ru in pairs)
    return ProductType(noun, (first, second, third, fourth), price, variant)


# Each variant dimension: its label and its values (the same in both languages, or en/ru).
VARIANTS: dict[str, tuple[Words, tuple[Words, ...]]] = {
    "edition": (
        ("edition", "версия"),
        (("Lite", "Lite"), ("Standard", "Standard"), ("Plus", "Plus"), ("Pro", "Pro")),
    ),
    "apparel": (("size", "размер"), tuple((s, s) for s in ("XS", "S", "M", "L", "XL", "XXL"))),
    "shoes": (("size", "размер"), tuple((str(s), str(s)) for s in range(36, 47))),
    "storage": (
        ("memory", "память"),
        tuple((f"{gb} GB", f"{gb} ГБ") for gb in (64, 128, 256, 512, 1024)),
    ),
    "volume": (("volume", "объём"), tuple((f"{ml} ml", f"{ml} мл") for ml in (50, 100, 250, 500))),
    "weight": (("weight", "вес"), tuple((f"{kg} kg", f"{kg} кг") for kg in (2, 5, 10, 15, 20))),
}

COLOURS: tuple[Words, ...] = (
    ("black", "чёрный"),
    ("white", "белый"),
    ("grey", "серый"),
    ("red", "красный"),
    ("blue", "синий"),
    ("green", "зелёный"),
    ("beige", "бежевый"),
    ("pink", "розовый"),
    ("yellow", "жёлтый"),
    ("navy", "тёмно-синий"),
    ("brown", "коричневый"),
    ("silver", "серебристый"),
)

CATEGORIES: tuple[CategoryWords, ...] = (
    CategoryWords(
        "audio",
        ("Headphones & Speakers", "Наушники и колонки"),
        ("Sonora", "Bassline", "Auralis", "Qubit Audio", "Echoa"),
        (
            _type(
                ("headphones", "наушники"),
                "wireless/беспроводные;noise-cancelling/с шумоподавлением;"
                "on-ear/накладные;foldable/складные",
                (25, 450),
                "edition",
            ),
            _type(
                ("earbuds", "наушники-вкладыши"),
                "true wireless/беспроводные;waterproof/водонепроницаемые;"
                "sport/спортивные;compact/компактные",
                (15, 300),
                "edition",
            ),
            _type(
                ("speaker", "колонка"),
                "portable/портативная;waterproof/водонепроницаемая;smart/умная;"
                "Bluetooth/беспроводная",
                (20, 600),
                "edition",
            ),
        ),
    ),
    CategoryWords(
        "phones",
        ("Phones & Accessories", "Телефоны и аксессуары"),
        ("Novaphone", "Zentro", "Orbix", "Pulsar", "Kaito"),
        (
            _type(
                ("smartphone", "смартфон"),
                "budget/бюджетный;flagship/флагманский;compact/компактный;rugged/защищённый",
                (120, 1500),
                "storage",
            ),
            _type(
                ("phone case", "чехол для телефона"),
                "silicone/силиконовый;leather/кожаный;transparent/прозрачный;"
                "shockproof/противоударный",
                (5, 60),
                "edition",
            ),
            _type(
                ("charger", "зарядное устройство"),
                "fast/быстрое;wireless/беспроводное;compact/компактное;dual-port/двухпортовое",
                (8, 90),
                "edition",
            ),
        ),
    ),
    CategoryWords(
        "computers",
        ("Computers", "Компьютеры"),
        ("Lumina", "Ferrix", "Vertex", "Nordby", "Tekko"),
        (
            _type(
                ("laptop", "ноутбук"),
                "gaming/игровой;lightweight/лёгкий;office/офисный;14-inch/14-дюймовый",
                (350, 3500),
                "storage",
            ),
            _type(
                ("keyboard", "клавиатура"),
                "mechanical/механическая;wireless/беспроводная;backlit/с подсветкой;gaming/игровая",
                (15, 250),
                "edition",
            ),
            _type(
                ("mouse", "мышь"),
                "wireless/беспроводная;gaming/игровая;ergonomic/эргономичная;silent/бесшумная",
                (8, 150),
                "edition",
            ),
            _type(
                ("monitor", "монитор"),
                "27-inch/27-дюймовый;4K/4K;curved/изогнутый;gaming/игровой",
                (120, 1200),
                "edition",
            ),
        ),
    ),
    CategoryWords(
        "kitchen",
        ("Kitchen", "Кухня"),
        ("Casa Mia", "Stahlberg", "Kettlewood", "Aromi", "Kuchenfreund"),
        (
            _type(
                ("kettle", "чайник"),
                "electric/электрический;glass/стеклянный;stainless steel/стальной;smart/умный",
                (15, 150),
                "edition",
            ),
            _type(
                ("coffee maker", "кофеварка"),
                "drip/капельная;espresso/рожковая;capsule/капсульная;programmable/программируемая",
                (30, 900),
                "edition",
            ),
            _type(
                ("blender", "блендер"),
                "hand/погружной;countertop/стационарный;portable/портативный;powerful/мощный",
                (20, 400),
                "edition",
            ),
            _type(
                ("frying pan", "сковорода"),
                "non-stick/антипригарная;cast iron/чугунная;ceramic/керамическая;deep/глубокая",
                (12, 180),
                "edition",
            ),
        ),
    ),
    CategoryWords(
        "home",
        ("Home & Bedroom", "Дом и спальня"),
        ("Hygge Home", "Mellow", "Linnea", "Dormia", "Lumen"),
        (
            _type(
                ("lamp", "лампа"),
                "desk/настольная;LED/светодиодная;dimmable/диммируемая;smart/умная",
                (10, 250),
                "edition",
            ),
            _type(
                ("pillow", "подушка"),
                "orthopedic/ортопедическая;memory foam/с эффектом памяти;soft/мягкая;"
                "hypoallergenic/гипоаллергенная",
                (10, 120),
                "edition",
            ),
            _type(
                ("blanket", "одеяло"),
                "warm/тёплое;lightweight/лёгкое;wool/шерстяное;cotton/хлопковое",
                (20, 300),
                "edition",
            ),
            _type(
                ("towel", "полотенце"),
                "cotton/хлопковое;bath/банное;quick-dry/быстросохнущее;soft/мягкое",
                (5, 60),
                "edition",
            ),
        ),
    ),
    CategoryWords(
        "clothing",
        ("Clothing", "Одежда"),
        ("Urbanite", "Northwind", "Cotton Lane", "Mila", "Redwood"),
        (
            _type(
                ("t-shirt", "футболка"),
                "cotton/хлопковая;oversized/оверсайз;sport/спортивная;basic/базовая",
                (8, 70),
                "apparel",
            ),
            _type(
                ("hoodie", "худи"),
                "warm/тёплое;oversized/оверсайз;zip/на молнии;fleece/флисовое",
                (20, 150),
                "apparel",
            ),
            _type(
                ("jeans", "джинсы"),
                "slim/узкие;straight/прямые;high-waisted/с высокой посадкой;stretch/стрейч",
                (25, 200),
                "apparel",
            ),
            _type(
                ("jacket", "куртка"),
                "waterproof/непромокаемая;down/пуховая;leather/кожаная;windproof/ветрозащитная",
                (40, 600),
                "apparel",
            ),
            _type(
                ("dress", "платье"),
                "summer/летнее;evening/вечернее;linen/льняное;knitted/трикотажное",
                (25, 400),
                "apparel",
            ),
        ),
    ),
    CategoryWords(
        "shoes",
        ("Shoes", "Обувь"),
        ("Stride", "Trailhead", "Kedy", "Runix", "Polar Step"),
        (
            _type(
                ("running shoes", "кроссовки для бега"),
                "lightweight/лёгкие;cushioned/амортизирующие;trail/трейловые;breathable/дышащие",
                (40, 250),
                "shoes",
            ),
            _type(
                ("sneakers", "кеды"),
                "canvas/холщовые;leather/кожаные;high-top/высокие;classic/классические",
                (30, 180),
                "shoes",
            ),
            _type(
                ("boots", "ботинки"),
                "winter/зимние;waterproof/непромокаемые;leather/кожаные;hiking/треккинговые",
                (50, 400),
                "shoes",
            ),
        ),
    ),
    CategoryWords(
        "sports",
        ("Sports & Outdoors", "Спорт и отдых"),
        ("Flexo", "Ironclad", "Peakline", "Zenmat", "Velo"),
        (
            _type(
                ("yoga mat", "коврик для йоги"),
                "non-slip/нескользящий;thick/толстый;eco/экологичный;travel/дорожный",
                (10, 120),
                "edition",
            ),
            _type(
                ("dumbbells", "гантели"),
                "adjustable/регулируемые;neoprene/неопреновые;cast iron/чугунные;hex/шестигранные",
                (10, 400),
                "weight",
            ),
            _type(
                ("bicycle helmet", "велошлем"),
                "lightweight/лёгкий;ventilated/вентилируемый;kids/детский;urban/городской",
                (20, 250),
                "apparel",
            ),
            _type(
                ("backpack", "рюкзак"),
                "waterproof/непромокаемый;laptop/для ноутбука;hiking/туристический;school/школьный",
                (15, 250),
                "edition",
            ),
        ),
    ),
    CategoryWords(
        "beauty",
        ("Beauty", "Красота"),
        ("Aqua Vera", "Botanica", "Lumiere", "Silk & Co", "Nordic Dew"),
        (
            _type(
                ("face cream", "крем для лица"),
                "moisturizing/увлажняющий;night/ночной;anti-aging/антивозрастной;"
                "sunscreen/солнцезащитный",
                (6, 150),
                "volume",
            ),
            _type(
                ("shampoo", "шампунь"),
                "anti-dandruff/против перхоти;herbal/травяной;volumizing/для объёма;"
                "sulfate-free/бессульфатный",
                (4, 40),
                "volume",
            ),
            _type(
                ("perfume", "парфюм"),
                "floral/цветочный;woody/древесный;fresh/свежий;citrus/цитрусовый",
                (20, 350),
                "volume",
            ),
        ),
    ),
    CategoryWords(
        "kids",
        ("Kids & Toys", "Детям и игрушки"),
        ("Toyland", "Brickly", "Little Genius", "Zoomies", "Playwise"),
        (
            _type(
                ("toy car", "машинка"),
                "remote-controlled/радиоуправляемая;metal/металлическая;wooden/деревянная;"
                "racing/гоночная",
                (5, 150),
                "edition",
            ),
            _type(
                ("building blocks", "конструктор"),
                "magnetic/магнитный;wooden/деревянный;educational/развивающий;large/большой",
                (10, 200),
                "edition",
            ),
            _type(
                ("board game", "настольная игра"),
                "family/семейная;strategy/стратегическая;party/для компании;"
                "educational/развивающая",
                (10, 90),
                "edition",
            ),
        ),
    ),
)

# Things people type that name no product type: the semantic method has to answer them.
FREE_QUERIES: tuple[Words, ...] = (
    ("gift for a gamer", "подарок геймеру"),
    ("warm clothes for winter", "тёплая одежда на зиму"),
    ("something for the kitchen", "что-нибудь для кухни"),
    ("headphones for running", "наушники для бега"),
    ("everything for yoga", "всё для йоги"),
    ("toys for a five year old", "игрушки для ребёнка пяти лет"),
    ("good coffee at home", "вкусный кофе дома"),
    ("protect my phone", "защита для телефона"),
    ("music on the beach", "музыка на пляже"),
    ("work from home setup", "всё для работы из дома"),
    ("dry skin care", "уход за сухой кожей"),
    ("hiking gear", "снаряжение для похода"),
    ("cozy bedroom", "уютная спальня"),
    ("present for mom", "подарок маме"),
    ("office outfit", "одежда для офиса"),
    ("strength training at home", "силовые тренировки дома"),
)
