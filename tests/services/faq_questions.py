"""A small labelled set for FAQ matching: the demo shop's questions (in en, ru, ar),
customers' paraphrases that must get their answer, and questions no entry answers
(products, small talk) that must not get one. FAQ_THRESHOLDS are calibrated on it.

Left out: questions two entries answer alike ("where is my parcel?" is order tracking
and delivery times; "cash on delivery?" payment and delivery), where either answer is
right, so the set cannot say which must win."""

from __future__ import annotations

import json
from pathlib import Path

from souk.services.faq import NewEntry

TOPICS = (
    "delivery-times",
    "payment-methods",
    "returns",
    "warranty",
    "order-tracking",
    "opening-hours",
    "international-shipping",
)


def entries() -> dict[str, list[tuple[str, NewEntry]]]:
    """The demo catalog's FAQ entries of TOPICS, by language, with their topic."""
    path = Path(__file__).parents[2] / "souk" / "seed" / "demo_catalog.json"
    faq = json.loads(path.read_text(encoding="utf-8"))["faq"]
    return {
        language: [
            (
                item["topic"],
                NewEntry(item[language]["question"], item[language]["answer"], language),
            )
            for item in faq
            if item["topic"] in TOPICS
        ]
        for language in ("en", "ru", "ar")
    }


PARAPHRASES: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("delivery-times", "how many days until my order arrives?"),
        ("delivery-times", "when will my package be delivered"),
        ("payment-methods", "can I pay by card?"),
        ("returns", "I want to send back what I bought, is that possible?"),
        ("returns", "what is your return policy"),
        ("warranty", "is there a guarantee on the products?"),
        ("order-tracking", "how can I see where my order is?"),
        ("opening-hours", "when are you open?"),
        ("opening-hours", "what time do you close today"),
        ("international-shipping", "do you deliver abroad?"),
    ],
    "ru": [
        ("delivery-times", "через сколько дней привезут заказ?"),
        ("delivery-times", "как долго ждать доставку"),
        ("payment-methods", "можно оплатить картой?"),
        ("payment-methods", "как можно заплатить"),
        ("returns", "хочу вернуть покупку, это возможно?"),
        ("returns", "какие условия возврата"),
        ("warranty", "есть ли гарантия на товары?"),
        ("order-tracking", "как отследить заказ"),
        ("opening-hours", "во сколько вы открываетесь?"),
        ("opening-hours", "какой у вас график работы"),
        ("international-shipping", "доставляете за границу?"),
    ],
    "ar": [
        ("delivery-times", "كم يوما يحتاج الشحن"),
        ("payment-methods", "هل يمكنني الدفع بالبطاقة؟"),
        ("payment-methods", "كيف أدفع"),
        ("returns", "أريد إرجاع ما اشتريته"),
        ("returns", "ما هي سياسة الإرجاع"),
        ("warranty", "هل يوجد ضمان على المنتجات؟"),
        ("order-tracking", "كيف أتتبع شحنتي"),
        ("opening-hours", "ما هي ساعات العمل"),
        ("international-shipping", "هل تشحنون إلى الخارج؟"),
    ],
}

UNRELATED: dict[str, list[str]] = {
    "en": [
        "do you have red sneakers in size 42?",
        "how much is the iPhone 15",
        "hello",
        "I need a gift for my wife",
        "is the Sony headphones battery good",
        "what is the weather like",
        "recommend a cheap kettle",
        "show me TVs under 500",
        "can you tell me a joke",
        "which laptop is best for gaming",
    ],
    "ru": [
        "есть красные кроссовки 42 размера?",
        "сколько стоит iPhone 15",
        "привет",
        "нужен подарок жене",
        "хорошая ли батарея у наушников Sony",
        "какая сегодня погода",
        "посоветуй недорогой чайник",
        "покажи телевизоры до 500",
        "расскажи анекдот",
        "какой ноутбук лучше для игр",
    ],
    "ar": [
        "هل لديكم حذاء رياضي أحمر مقاس 42؟",
        "كم سعر آيفون 15",
        "مرحبا",
        "أحتاج هدية لزوجتي",
        "هل بطارية سماعات سوني جيدة",
        "كيف الطقس اليوم",
        "اقترح غلاية رخيصة",
        "أرني أجهزة تلفاز بأقل من 500",
        "احكِ لي نكتة",
        "أي حاسوب محمول أفضل للألعاب",
    ],
}
