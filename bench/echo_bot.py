"""The baseline: a bare aiogram echo bot on aiogram's own webhook handler.

`python bench/echo_bot.py --port P --token T --secret S --api-base URL` serves
`POST /webhook` (answered at once, the update handled in the background, aiogram's
default) and `GET /healthz`; every text message is echoed back with `sendMessage`.
"""

from __future__ import annotations

import argparse
import logging

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

router = Router(name="echo")


@router.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "?")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(*, token: str, secret: str, api_base: str) -> web.Application:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=secret).register(app, path="/webhook")
    app.router.add_get("/healthz", healthz)
    setup_application(app, dispatcher, bot=bot)  # closes the bot's session on shutdown
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="aiogram echo bot (benchmark baseline)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--api-base", required=True, help="Bot API server, e.g. the fake's URL")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper())
    # As souk does (souk.logs): one line per update is for DEBUG only.
    for noisy in ("aiohttp.access", "aiogram.event"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    app = build_app(token=args.token, secret=args.secret, api_base=args.api_base)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=1024)


if __name__ == "__main__":
    main()
