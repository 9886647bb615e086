"""One module per stage's click command; each calls one library function."""

from vocalmine.commands.demo_data import demo_data

ALL_COMMANDS = [demo_data]
