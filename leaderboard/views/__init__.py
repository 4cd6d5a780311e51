"""The leaderboard's pages; `leaderboard/app.py` picks one from the `page` query parameter."""
