"""`vocalmine report`: write the pair quality report and print a one-screen summary."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from vocalmine.commands.context import Context, pass_context

TOP_REASONS = 10  # reject reasons listed in the terminal summary


def summary_tables(summary) -> list[Table]:  # summary: vocalmine.report.report.ReportSummary
    """The funnel and the top reject reasons of a ReportSummary as rich tables."""
    funnel = Table(title="Funnel", title_justify="left", show_edge=False)
    funnel.add_column("step")
    funnel.add_column("count", justify="right")
    funnel.add_column("unit", style="dim")
    for step in summary.funnel.steps:
        funnel.add_row(step.label, "—" if step.count is None else f"{step.count:,}", step.unit)
    for split in summary.funnel.splits:
        funnel.add_row(f"  {split.split}", f"{split.patches:,}", f"patches ({split.pairs:,} pairs)")
    reasons = Table(title="Top reject reasons", title_justify="left", show_edge=False)
    reasons.add_column("stage")
    reasons.add_column("reason")
    reasons.add_column("count", justify="right")
    drops = summary.funnel.all_drops()
    for drop in drops[:TOP_REASONS]:
        reasons.add_row(drop.stage, drop.reason, f"{drop.count:,}")
    if len(drops) > TOP_REASONS:
        reasons.add_row("…", f"{len(drops) - TOP_REASONS} more reasons in the report", "")
    return [funnel, reasons]


@click.command("report")
@click.option("--no-audio", is_flag=True, show_default=True,
              help="Skip decoding audio: no excerpts of the example pairs or of the worst segments.")
@pass_context
def report_command(ctx: Context, no_audio: bool) -> None:
    """Write the pair quality report (catalog 'report' folder / index.html) and print its funnel."""
    from vocalmine.report.report import ReportConfig, build_report  # here: matplotlib and pandas, slow for --help

    summary = build_report(catalog=ctx.catalog, config=ReportConfig(with_audio=not no_audio))
    console = Console(stderr=False)
    for table in summary_tables(summary):
        console.print(table)
    budget = " [red](over the size budget)[/red]" if summary.over_budget else ""
    console.print(
        f"[bold]{summary.path}[/bold]: {summary.size_bytes / 2**20:.2f} MB{budget}, {summary.n_pairs:,} pairs, "
        f"{summary.n_rejects:,} rejects, {summary.n_examples} example pairs, {summary.n_segments} worst segments "
        f"to hear, {summary.seconds:.1f} s"
    )
