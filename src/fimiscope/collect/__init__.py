"""One module per kind of source (feeds, sitemaps, web pages, files, WARC, Telegram exports,
social-post dumps) and the one polite HTTP fetcher they share."""
