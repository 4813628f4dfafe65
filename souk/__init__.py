"""souk: conversational commerce on Telegram and WhatsApp."""

__version__ = "0.1.0"
