"""One module per stage's click command; each calls one library function."""

from vocalmine.commands.build import build
from vocalmine.commands.demo import demo
from vocalmine.commands.demo_data import demo_data
from vocalmine.commands.evaluate import evaluate
from vocalmine.commands.export import export
from vocalmine.commands.export_dataset import export_dataset
from vocalmine.commands.mine import mine
from vocalmine.commands.report import report
from vocalmine.commands.separate import separate
from vocalmine.commands.train import train_command

# In pipeline order, as `vocalmine --help` lists them.
ALL_COMMANDS = [demo_data, mine, build, export_dataset, report, train_command, export, separate, evaluate, demo]
