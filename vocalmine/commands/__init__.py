"""One module per stage's click command (NAME_command); each calls the stage's library function of that NAME."""

from vocalmine.commands.build import build_command
from vocalmine.commands.demo import demo_command
from vocalmine.commands.demo_data import demo_data_command
from vocalmine.commands.evaluate import evaluate_command
from vocalmine.commands.export import export_command
from vocalmine.commands.export_dataset import export_dataset_command
from vocalmine.commands.mine import mine_command
from vocalmine.commands.report import report_command
from vocalmine.commands.separate import separate_command
from vocalmine.commands.train import train_command

# In pipeline order, as `vocalmine --help` lists them.
ALL_COMMANDS = [demo_data_command, mine_command, build_command, export_dataset_command, report_command, train_command,
                export_command, separate_command, evaluate_command, demo_command]
