"""Composition root: settings -> logging -> the command asked for (serve, up, worker...).

Everything is built by factories in `souk`; this file only chooses the entry point,
so `python bot.py serve` and `souk serve` are the same program.
"""

from souk.cli import main

if __name__ == "__main__":
    main()
