"""The tools around the crawl (``cnis-crawler export | report | mirror``): the dataset made of
the run files and the crawl state, the report on it, and the loopback server for mirrors."""
