"""The web console: a page and its JSON API on the status server (`console`), who may use
it (`guard`), the command bodies (`api`), the state it shows (`record`) and the live
preview (`preview`). The page itself is static files in `static/`."""
