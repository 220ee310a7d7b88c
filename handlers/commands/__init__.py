"""One module per slash-command; each declares itself with `bot.commands.command`."""
