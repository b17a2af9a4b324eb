"""The project's Scrapy commands (``COMMANDS_MODULE``): each module's command replaces Scrapy's of
the same name."""
