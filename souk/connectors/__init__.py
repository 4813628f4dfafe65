"""I/O with the outside world that is not a messaging channel: competitors' pages (fetched
politely, read into an offer) and, later, marketplaces and shop platforms."""
